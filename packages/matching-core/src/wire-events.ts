import {
  type EngineEvent as WireEvent,
  InstrumentState as WireState,
  type LevelChange,
  OrderType as WireOrderType,
  RejectReason as WireReject,
  Side as WireSide,
  StpMode as WireStp,
  TimeInForce as WireTif,
} from "@tradeplane/contracts";
import { EventKind, RejectReason } from "./constants.ts";
import type { Partition } from "./partition.ts";
import {
  cancelReasonOf,
  REJECT_TO_WIRE,
  requestClientOrderIdOf,
  requestKindOf,
  STATE_TO_WIRE,
  TIF_TO_WIRE,
  usToTimestamp,
} from "./wire-codes.ts";

/**
 * The last command's events as wire messages (see `Partition.wireEvents`, which keeps them):
 * the core's events with what the partition captured while applying them (the orders' terms
 * and client order ids, trade ids, previous states).
 */
export function buildWireEvents(p: Partition): WireEvent[] {
  const ev = p.engine.events;
  const { seq, command, decodeError } = p.last;
  const out: WireEvent[] = [];
  const timestamp = usToTimestamp(p.timeUs);
  // Helpers as methods and module functions, not closures: this runs per command live.
  const push = (instrument: string, body: WireEvent["body"]): void => {
    out.push({ commandSeq: seq, index: out.length, lastInCommand: false, timestamp, instrument, body });
  };
  let lastTradePrice = 0;
  let pendingDelta: { instrument: number; changes: LevelChange[] } | undefined;
  const flushDelta = (): void => {
    if (pendingDelta === undefined) return;
    push(p.symbolAt(pendingDelta.instrument), { $case: "bookDelta", value: { changes: pendingDelta.changes } });
    pendingDelta = undefined;
  };
  for (let i = 0; i < ev.count; i++) {
    const kind = ev.kind[i]!;
    const inst = ev.instrument[i]!;
    if (kind !== EventKind.BOOK_DELTA) flushDelta();
    const ref = p.captured[i];
    switch (kind) {
      case EventKind.ACCEPTED: {
        const o = command?.body?.$case === "newOrder" ? command.body.value : undefined;
        push(p.symbolAt(inst), {
          $case: "accepted",
          value: {
            orderId: ev.orderId[i]!,
            clientOrderId: o?.clientOrderId ?? "",
            account: p.accountAt(ev.account[i]),
            side: ev.side[i] as WireSide,
            orderType: (o?.orderType ?? WireOrderType.UNSPECIFIED) as WireOrderType,
            timeInForce: (o?.timeInForce ?? WireTif.UNSPECIFIED) as WireTif,
            price: o?.price ?? ev.price[i]!,
            stopPrice: o?.stopPrice ?? 0,
            qty: ev.qty[i]!,
            postOnly: o?.postOnly ?? false,
            stpMode: o === undefined || o.stpMode === WireStp.UNSPECIFIED ? WireStp.CANCEL_MAKER : o.stpMode,
            expireTime: o?.expireTime,
            displayQty: o?.displayQty ?? 0,
          },
        });
        break;
      }
      case EventKind.REJECTED: {
        const reason =
          p.rejectOverride ??
          (command === undefined || command.body === undefined
            ? WireReject.MALFORMED_COMMAND
            : (REJECT_TO_WIRE[ev.reason[i]!] ?? WireReject.UNSPECIFIED));
        const b = command?.body;
        // A refused command about an order the book does not know (finished, unknown) still
        // goes out with the listed instrument it named: it stays in that instrument's run of
        // events instead of breaking it, and the report names what the client asked about.
        const stated = b !== undefined && "instrument" in b.value ? b.value.instrument : "";
        push(inst >= 0 || !p.symbolIndex.has(stated) ? p.symbolAt(inst) : stated, {
          $case: "rejected",
          value: {
            requestKind: requestKindOf(command),
            reason,
            text: decodeError ?? rejectText(p, ev.reason[i]!),
            orderId: b?.$case === "cancelOrder" || b?.$case === "replaceOrder" ? b.value.orderId : 0,
            clientOrderId: requestClientOrderIdOf(command),
            account: command?.account ?? "",
          },
        });
        break;
      }
      case EventKind.TRADE: {
        const maker = p.capturedMaker[i];
        lastTradePrice = ev.price[i]!;
        const auction = command?.body?.$case === "setInstrumentState";
        push(p.symbolAt(inst), {
          $case: "trade",
          value: {
            tradeId: tradeIdAt(p, inst, i),
            price: ev.price[i]!,
            qty: ev.qty[i]!,
            aggressorSide: auction ? WireSide.UNSPECIFIED : (ev.side[i] as WireSide),
            makerOrderId: ev.makerOrderId[i]!,
            makerAccount: p.accountAt(maker?.account),
            makerClientOrderId: maker?.clientOrderId ?? "",
            makerLeavesQty: ev.makerLeaves[i]!,
            takerOrderId: ev.orderId[i]!,
            takerAccount: p.accountAt(ref?.account),
            takerClientOrderId: ref?.clientOrderId ?? "",
            takerLeavesQty: ev.leaves[i]!,
          },
        });
        break;
      }
      case EventKind.CANCELLED:
        push(p.symbolAt(inst), {
          $case: "cancelled",
          value: {
            orderId: ev.orderId[i]!,
            clientOrderId: ref?.clientOrderId ?? "",
            account: p.accountAt(ev.account[i]),
            side: ev.side[i] as WireSide,
            price: ev.price[i]!,
            cancelledQty: ev.qty[i]!,
            reason: cancelReasonOf(command, ev.reason[i]!),
            requestClientOrderId:
              command?.body?.$case === "cancelOrder" || command?.body?.$case === "massCancel"
                ? command.body.value.clientOrderId
                : "",
          },
        });
        break;
      case EventKind.EXPIRED:
        push(p.symbolAt(inst), {
          $case: "expired",
          value: {
            orderId: ev.orderId[i]!,
            clientOrderId: ref?.clientOrderId ?? "",
            account: p.accountAt(ev.account[i]),
            side: ev.side[i] as WireSide,
            price: ev.price[i]!,
            expiredQty: ev.qty[i]!,
            timeInForce: TIF_TO_WIRE[ref?.tif ?? 0] ?? WireTif.UNSPECIFIED,
          },
        });
        break;
      case EventKind.REPLACED: {
        const newId = command?.body?.$case === "replaceOrder" ? command.body.value.clientOrderId : "";
        const before = ref;
        push(p.symbolAt(inst), {
          $case: "replaced",
          value: {
            orderId: ev.orderId[i]!,
            clientOrderId: newId || (before?.clientOrderId ?? ""),
            origClientOrderId: before?.clientOrderId ?? "",
            account: p.accountAt(ev.account[i]),
            side: ev.side[i] as WireSide,
            price: ev.price[i]!,
            stopPrice: before?.stopPrice ?? 0,
            qty: ev.qty[i]!,
            leavesQty: ev.leaves[i]!,
            priorityKept: before !== undefined && before.price === ev.price[i] && ev.qty[i]! <= before.qty,
          },
        });
        break;
      }
      case EventKind.TRIGGERED: {
        const limit = ref?.orderType === WireOrderType.STOP_LIMIT;
        push(p.symbolAt(inst), {
          $case: "triggered",
          value: {
            orderId: ev.orderId[i]!,
            clientOrderId: ref?.clientOrderId ?? "",
            account: p.accountAt(ev.account[i]),
            side: ev.side[i] as WireSide,
            stopPrice: ev.price[i]!,
            triggerPrice: lastTradePrice,
            orderType: limit ? WireOrderType.LIMIT : WireOrderType.MARKET,
            price: limit ? (ref?.price ?? 0) : 0,
          },
        });
        break;
      }
      case EventKind.STATE_CHANGED: {
        const s = command?.body?.$case === "setInstrumentState" ? command.body.value : undefined;
        push(p.symbolAt(inst), {
          $case: "instrumentStateChanged",
          value: {
            previousState: STATE_TO_WIRE[p.previousStates[inst] ?? 0] ?? WireState.UNSPECIFIED,
            state: STATE_TO_WIRE[ev.state[i]!] ?? WireState.UNSPECIFIED,
            reason: s?.reason ?? "",
            referencePrice: p.engine.config.instruments[inst]?.referencePrice ?? 0,
          },
        });
        break;
      }
      case EventKind.ACCOUNT_FENCED:
        push("_", { $case: "accountFenced", value: { account: p.accountAt(ev.account[i]), epoch: ev.price[i]! } });
        break;
      case EventKind.ACCOUNT_BLOCK_CHANGED: {
        const k = command?.body?.$case === "blockAccount" ? command.body.value : undefined;
        const all = ev.account[i] === -1;
        push("_", {
          $case: "accountBlockChanged",
          value: {
            account: all ? "" : p.accountAt(ev.account[i]),
            allAccounts: all,
            blocked: ev.state[i] === 1,
            reason: k?.reason ?? "",
          },
        });
        break;
      }
      case EventKind.BOOK_DELTA: {
        if (pendingDelta !== undefined && pendingDelta.instrument !== inst) flushDelta();
        pendingDelta ??= { instrument: inst, changes: [] };
        pendingDelta.changes.push({
          side: ev.side[i] as WireSide,
          price: ev.price[i]!,
          qty: ev.qty[i]!,
          orderCount: 0,
        });
        break;
      }
    }
  }
  flushDelta();
  if (command?.body?.$case === "massCancel" && !(ev.count > 0 && ev.kind[0] === EventKind.REJECTED)) {
    const m = command.body.value;
    push(m.instrument === "" ? "_" : m.instrument, {
      $case: "massCancelCompleted",
      value: {
        account: m.allAccounts ? "" : command.account,
        cancelledCount: p.massCancelCount,
        clientOrderId: m.clientOrderId,
      },
    });
  }
  if (out.length > 0) out[out.length - 1]!.lastInCommand = true;
  return out;
}

/** What a refusal decided by the fence or a kill switch says; empty for the others. */
function rejectText(p: Partition, core: number): string {
  const command = p.last.command;
  if (core === RejectReason.FENCED) {
    const fence = p.engine.fenceOf(p.accountIndex.get(command?.account ?? "") ?? -1);
    return `written by a gateway replica that no longer owns the account (owner epoch ${command?.ownerEpoch ?? 0} is below its fence ${fence})`;
  }
  if (core === RejectReason.KILL_SWITCH) return "a kill switch blocks the account's new orders and replaces";
  if (core === RejectReason.INVALID_EPOCH) return "a fence epoch must be a positive integer";
  return "";
}

/** Trade ids count per instrument; event i's id is the count after it minus later trades of this command. */
function tradeIdAt(p: Partition, instrument: number, i: number): number {
  const ev = p.engine.events;
  let later = 0;
  for (let j = i + 1; j < ev.count; j++) if (ev.kind[j] === EventKind.TRADE && ev.instrument[j] === instrument) later++;
  return p.tradeIds[instrument]! - later;
}
