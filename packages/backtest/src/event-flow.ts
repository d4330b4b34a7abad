import { CancelReason, type Command, type EngineEvent } from "@tradeplane/contracts";
import { RecordingError, quote, type RecordedEvent } from "./recording.ts";
import type { SimulatedVenue } from "./simulated-venue.ts";
import type { ApplyCommand } from "./workload.ts";

/** The events one command of the venue caused on one engine partition, in their order. */
export interface RecordedCommand {
  readonly partition: number;
  readonly commandSeq: number;
  readonly seconds: number;
  readonly nanos: number;
  readonly events: readonly EngineEvent[];
}

/** The account that sets instrument states in the flow (the venue's operator or scheduler did). */
export const RECORDING_PRINCIPAL = "recording";

function badEvent(e: RecordedEvent, what: string): RecordingError {
  return new RecordingError(
    "bad-event",
    e.line ?? 0,
    `${what} (command ${quote(String(e.event.commandSeq))}, event ${quote(String(e.event.index))})`,
  );
}

/** Every number of an event body is a safe integer: `fromJSON` turns text it cannot read into NaN. */
function checkBody(e: RecordedEvent): void {
  const body = e.event.body!;
  for (const [k, v] of Object.entries(body.value))
    if (typeof v === "number" && !Number.isSafeInteger(v)) throw badEvent(e, `${body.$case}.${k} is not an integer`);
  if (body.$case === "accepted" && body.value.side !== 1 && body.value.side !== 2)
    throw badEvent(e, "accepted.side is not buy or sell");
}

/**
 * The recorded events as the commands that caused them: grouped by (partition, command
 * sequence), each command's events by index (a copy the stream holds twice, as after an
 * engine's failover, counted once), commands in engine time, then partition, then sequence.
 * Engine time never goes back within a partition, so each partition's commands keep their
 * log order; across partitions time is the only order there is. Throws RecordingError on an
 * event without a valid sequence, time or body.
 */
export function recordedCommands(events: Iterable<RecordedEvent>): RecordedCommand[] {
  const byCommand = new Map<string, { c: RecordedCommand & { events: EngineEvent[] }; seen: Set<number> }>();
  for (const e of events) {
    const ev = e.event;
    if (!Number.isSafeInteger(ev.commandSeq) || ev.commandSeq < 1)
      throw badEvent(e, "commandSeq is not an integer >= 1");
    if (!Number.isSafeInteger(ev.index) || ev.index < 0) throw badEvent(e, "index is not an integer >= 0");
    const t = ev.timestamp;
    if (t === undefined || !Number.isSafeInteger(t.seconds) || !Number.isSafeInteger(t.nanos))
      throw badEvent(e, "the event has no valid timestamp");
    if (ev.body === undefined) throw badEvent(e, "the event has no body");
    checkBody(e);
    const key = `${e.partition}:${ev.commandSeq}`;
    let entry = byCommand.get(key);
    if (entry === undefined) {
      entry = {
        c: { partition: e.partition, commandSeq: ev.commandSeq, seconds: t.seconds, nanos: t.nanos, events: [] },
        seen: new Set(),
      };
      byCommand.set(key, entry);
    }
    if (entry.seen.has(ev.index)) continue;
    entry.seen.add(ev.index);
    entry.c.events.push(ev);
  }
  const out = [...byCommand.values()].map(({ c }) => {
    c.events.sort((a, b) => a.index - b.index);
    return c;
  });
  out.sort(
    (a, b) => a.seconds - b.seconds || a.nanos - b.nanos || a.partition - b.partition || a.commandSeq - b.commandSeq,
  );
  return out;
}

/** What a flow did with the recording, for the report. */
export interface EventFlowStats {
  /** Recorded commands played. */
  commands: number;
  newOrders: number;
  cancels: number;
  replaces: number;
  stateChanges: number;
  /**
   * Recorded orders cut back to what the recording says was left of them after a command
   * (the strategy had taken the flow that filled them, or had filled them itself earlier).
   */
  cuts: number;
  /** Events naming an order the recording never showed entering (a recording that starts mid-session). */
  unknownOrders: number;
  /** Recorded commands the core refused in the backtest (the book or time differed from the recording's). */
  refusedInBacktest: number;
}

interface RecordedOrder {
  readonly simId: number;
  readonly account: string;
  readonly instrument: string;
}

/** A flow order as the simulated core holds it, kept from the core's own events. */
interface SimOrder {
  price: number;
  stopPrice: number;
  qty: number;
  leaves: number;
  /** A stop order the core has not triggered yet: it sits outside the book, and the core refuses to replace it. */
  parked: boolean;
}

const NS_PER_MS = 1_000_000;

/**
 * A recording replayed as a synthetic flow (docs/backtest.md, "A recorded event stream"):
 * each recorded command becomes the command that caused it, sent to the simulated venue at
 * the recorded time, and the real core matches it again:
 *
 * - an accepted order enters again with its recorded side, type, time in force, prices and
 *   quantity, in the recorded account, so an order that traded on arrival is the same
 *   aggressor and meets the same resting orders when no strategy order is in the way;
 * - a replace is the same replace; a change of instrument state (halt, auction, close) the
 *   same state command, whose uncross, expiries and cancels the core produces itself;
 * - a command that only cancelled or expired orders (a cancel, mass cancel, kill switch,
 *   time tick) cancels each of them;
 * - trades are never sent: they come from the core's matching.
 *
 * Recorded orders do not react to the strategy, and they leave the book when the recording
 * says they did: after each command, a recorded order the command traded, cancelled or
 * replaced that the simulated core still holds more of than the recording does is cut back
 * to the recorded rest (a replace down keeps its place; nothing left, a cancel). So a
 * strategy that took the flow meant for a recorded order does not leave that order behind
 * to fill later flow the recording gave to others. Without strategy orders every cut is a
 * no-op and the core reproduces the recorded trades and book exactly
 * (test/event-flow.test.ts).
 *
 * The flow's accounts are the recorded ones renamed in order of appearance (`rec-1`,
 * `rec-2`, ...): self-trade prevention between a recorded account's orders works as
 * recorded, and no recorded name can clash with the strategy's account.
 */
export class EventFlow {
  readonly stats: EventFlowStats = {
    commands: 0,
    newOrders: 0,
    cancels: 0,
    replaces: 0,
    stateChanges: 0,
    cuts: 0,
    unknownOrders: 0,
    refusedInBacktest: 0,
  };
  private readonly apply: ApplyCommand;
  private readonly accounts = new Map<string, string>();
  /** The flow's accounts and its state-setting principal, whose refusals the stats count. */
  private readonly flowAccounts = new Set<string>([RECORDING_PRINCIPAL]);
  /** Recorded order id -> the order the flow entered for it (until the recording says it is gone). */
  private readonly recorded = new Map<number, RecordedOrder>();
  /** Flow orders the simulated core holds, by its order id. */
  private readonly sim = new Map<number, SimOrder>();
  /** Recorded order id -> the flow's order id, kept for good (tests map the core's trades back). */
  readonly simIdOf = new Map<number, number>();
  private timeMs = 0;
  /** Each instrument's reference price in force, as the recording's state changes set it. */
  private readonly references = new Map<string, number>();
  private readonly initialReference: (instrument: string) => number;

  /** `initialReference`: each instrument's reference price before the recording's first state change. */
  constructor(apply: ApplyCommand, initialReference: (instrument: string) => number = () => 0) {
    this.apply = apply;
    this.initialReference = initialReference;
  }

  /** A flow over `venue`: its commands go through `apply` (the venue's own by default), its events feed `observe`. */
  static over(venue: SimulatedVenue, apply: ApplyCommand = (a, b, t) => venue.apply(a, b, t)): EventFlow {
    const flow = new EventFlow(apply, (instrument) => venue.referencePrice(instrument));
    venue.onEvent(flow.observe);
    return flow;
  }

  /** The flow account of a recorded account. */
  accountOf(recorded: string): string {
    let a = this.accounts.get(recorded);
    if (a === undefined) {
      a = `rec-${this.accounts.size + 1}`;
      this.accounts.set(recorded, a);
      this.flowAccounts.add(a);
    }
    return a;
  }

  /** Every event of the simulated venue, in order: keeps what the core holds of the flow's orders. */
  readonly observe = (event: EngineEvent): void => {
    const b = event.body;
    if (b === undefined) return;
    switch (b.$case) {
      case "accepted":
        if (this.flowAccounts.has(b.value.account))
          this.sim.set(b.value.orderId, {
            price: b.value.price,
            stopPrice: b.value.stopPrice,
            qty: b.value.qty,
            leaves: b.value.qty,
            parked: b.value.stopPrice > 0,
          });
        return;
      case "rejected":
        if (this.flowAccounts.has(b.value.account)) this.stats.refusedInBacktest++;
        return;
      case "trade":
        this.setLeaves(b.value.makerOrderId, b.value.makerLeavesQty);
        this.setLeaves(b.value.takerOrderId, b.value.takerLeavesQty);
        return;
      case "cancelled":
      case "expired":
        this.sim.delete(b.value.orderId);
        return;
      case "replaced": {
        const o = this.sim.get(b.value.orderId);
        if (o === undefined) return;
        o.price = b.value.price;
        o.stopPrice = b.value.stopPrice;
        o.qty = b.value.qty;
        this.setLeaves(b.value.orderId, b.value.leavesQty);
        return;
      }
      case "triggered": {
        const o = this.sim.get(b.value.orderId);
        if (o !== undefined) {
          o.price = b.value.price;
          o.parked = false;
        }
        return;
      }
      default:
        return;
    }
  };

  private setLeaves(orderId: number, leaves: number): void {
    const o = this.sim.get(orderId);
    if (o === undefined) return;
    if (leaves === 0) this.sim.delete(orderId);
    else o.leaves = leaves;
  }

  /** Plays one recorded command (see the class comment), then cuts recorded orders back to their recorded rest. */
  play(c: RecordedCommand): void {
    this.stats.commands++;
    const ms = c.seconds * 1000 + Math.floor(c.nanos / NS_PER_MS);
    if (ms > this.timeMs) this.timeMs = ms;
    const accepted = c.events.find((e) => e.body?.$case === "accepted");
    const replaced = c.events.filter((e) => e.body?.$case === "replaced");
    const states = c.events.filter((e) => e.body?.$case === "instrumentStateChanged");
    if (accepted !== undefined) this.enter(accepted);
    else if (replaced.length > 0) for (const e of replaced) this.replace(e);
    else if (states.length > 0) for (const e of states) this.setState(e);
    else
      for (const e of c.events)
        if (e.body?.$case === "cancelled" || e.body?.$case === "expired") this.cancel(e.body.value.orderId);
    this.cutBack(c);
  }

  private enter(e: EngineEvent): void {
    if (e.body?.$case !== "accepted") return;
    const a = e.body.value;
    const account = this.accountOf(a.account);
    const simId = this.apply(
      account,
      {
        $case: "newOrder",
        value: {
          clientOrderId: `r${a.orderId}`,
          instrument: e.instrument,
          side: a.side,
          orderType: a.orderType,
          timeInForce: a.timeInForce,
          price: a.price,
          stopPrice: a.stopPrice,
          qty: a.qty,
          postOnly: a.postOnly,
          stpMode: a.stpMode,
          ...(a.expireTime !== undefined ? { expireTime: a.expireTime } : {}),
          displayQty: a.displayQty,
          // Not in the recorded event: orders of one account in different STP groups are one group here.
          stpGroup: 0,
        },
      },
      this.timeMs,
    );
    this.stats.newOrders++;
    this.recorded.set(a.orderId, { simId, account, instrument: e.instrument });
    this.simIdOf.set(a.orderId, simId);
  }

  private replace(e: EngineEvent): void {
    if (e.body?.$case !== "replaced") return;
    const r = e.body.value;
    const o = this.known(r.orderId);
    if (o === undefined || !this.sim.has(o.simId)) return;
    this.stats.replaces++;
    this.apply(
      o.account,
      {
        $case: "replaceOrder",
        value: {
          instrument: o.instrument,
          orderId: o.simId,
          clientOrderId: "",
          price: r.price,
          stopPrice: r.stopPrice,
          qty: r.qty,
        },
      },
      this.timeMs,
    );
  }

  private setState(e: EngineEvent): void {
    if (e.body?.$case !== "instrumentStateChanged") return;
    const s = e.body.value;
    this.stats.stateChanges++;
    // Every state event names the reference in force; only a new one is a rebase (which the
    // core refuses while the book holds orders).
    const before = this.references.get(e.instrument) ?? this.initialReference(e.instrument);
    this.references.set(e.instrument, s.referencePrice);
    this.apply(
      RECORDING_PRINCIPAL,
      {
        $case: "setInstrumentState",
        value: {
          instrument: e.instrument,
          state: s.state,
          reason: s.reason,
          referencePrice: s.referencePrice !== before ? s.referencePrice : undefined,
          fromStates: [],
        },
      },
      this.timeMs,
    );
  }

  private cancel(recordedId: number): void {
    const o = this.known(recordedId);
    if (o === undefined) return;
    this.recorded.delete(recordedId);
    if (!this.sim.has(o.simId)) return;
    this.stats.cancels++;
    this.cancelSim(o);
  }

  private cancelSim(o: RecordedOrder): void {
    const body: Command["body"] = {
      $case: "cancelOrder",
      value: { instrument: o.instrument, orderId: o.simId, clientOrderId: "", reason: CancelReason.CLIENT_REQUEST },
    };
    this.apply(o.account, body, this.timeMs);
  }

  /** The flow's order for a recorded one (an unknown one is counted by `cutBack`, which sees every order named). */
  private known(recordedId: number): RecordedOrder | undefined {
    return this.recorded.get(recordedId);
  }

  /** What the recording says is left of each order the command touched, and the cut where the core holds more. */
  private cutBack(c: RecordedCommand): void {
    const left = new Map<number, number>();
    for (const e of c.events) {
      const b = e.body;
      if (b === undefined) continue;
      if (b.$case === "trade") {
        left.set(b.value.makerOrderId, b.value.makerLeavesQty);
        left.set(b.value.takerOrderId, b.value.takerLeavesQty);
      } else if (b.$case === "cancelled" || b.$case === "expired") left.set(b.value.orderId, 0);
      else if (b.$case === "replaced") left.set(b.value.orderId, b.value.leavesQty);
    }
    for (const [recordedId, leaves] of left) {
      const o = this.recorded.get(recordedId);
      if (o === undefined) {
        // Gone already (a cancel command's orders were cancelled above), or never seen.
        if (!this.simIdOf.has(recordedId)) this.stats.unknownOrders++;
        continue;
      }
      if (leaves === 0) this.recorded.delete(recordedId);
      const s = this.sim.get(o.simId);
      if (s === undefined || s.leaves <= leaves) continue;
      this.stats.cuts++;
      // A stop the recording triggered and traded but the backtest's core has not triggered
      // yet cannot be made smaller (the core replaces resting orders only): it is taken out.
      if (leaves === 0 || s.parked) {
        this.recorded.delete(recordedId);
        this.cancelSim(o);
      } else
        this.apply(
          o.account,
          {
            $case: "replaceOrder",
            value: {
              instrument: o.instrument,
              orderId: o.simId,
              clientOrderId: "",
              price: s.price,
              stopPrice: s.stopPrice,
              qty: s.qty - (s.leaves - leaves),
            },
          },
          this.timeMs,
        );
    }
  }
}

/** Plays every recorded command through `flow`, calling `progress(commandsDone)` every `every` commands. */
export function replayRecorded(
  flow: EventFlow,
  commands: readonly RecordedCommand[],
  progress?: (commands: number) => void,
  every = 16_384,
): EventFlowStats {
  for (let i = 0; i < commands.length; i++) {
    flow.play(commands[i]!);
    if (progress !== undefined && (i + 1) % every === 0) progress(i + 1);
  }
  return flow.stats;
}
