import {
  ExecType,
  LiquidityIndicator,
  RejectReason,
  Side,
  StpMode,
  type Command,
  type ExecutionReport,
  type MassCancelRequest,
  type Order,
  type RequestKind,
  type SubmitOrderRequest,
  type ReplaceOrderRequest,
  type CancelOrderRequest,
} from "@tradeplane/contracts";
import {
  type CheckContext,
  checkNewOrder,
  orderNotional,
  PASS,
  tradingStateReason,
} from "@tradeplane/risk-checks/checks";
import type { Hold, InFlightView } from "./in-flight.ts";
import type { Limits } from "@tradeplane/risk-checks/limits";
import { emptyOrder } from "@tradeplane/positions/order-projection";
import { clientOrderIdProblem, type FieldProblem, submitProblem } from "./request-validation.ts";
import type { OrderRateWindow } from "@tradeplane/risk-checks/order-rate-window";

/**
 * The order intake's decisions: given what the gateway gathered about an account, an
 * instrument and the venue, what a new order, cancel, replace or mass cancel becomes (the
 * command to write to the log, and what it holds in flight) or why it is refused. Pure:
 * the adapter (`adapters/order-intake.ts`) does every read, then calls one of these.
 */

export interface InstrumentInfo {
  readonly partition: number;
  readonly referencePrice: number;
  readonly notionalPerTickLot: number;
}

export interface Refusal {
  readonly ok: false;
  readonly reason: RejectReason;
  readonly text: string;
  /** The caller's own order the refusal is about, when there is one to show (ORDER_FINISHED). */
  readonly order?: Order | undefined;
}

export interface Accepted {
  readonly ok: true;
  readonly partition: number;
  readonly body: Command["body"];
  readonly hold?: Hold | undefined;
}

export type Decision = Refusal | Accepted;

export interface MassCancelDecision {
  readonly ok: true;
  readonly partitions: readonly number[];
  readonly body: Command["body"];
}

/** What the checks of one order read about its account, as gathered. */
export interface AccountFacts {
  /** Undefined: no such account (the session check refuses it). */
  readonly record: { readonly disabled: boolean; readonly defaultStpMode: number } | undefined;
  readonly limits: Limits;
  readonly killSwitch: boolean;
  /** Live and pending client order ids (a view, never a copy). */
  readonly clientOrderIds: { has(id: string): boolean };
  readonly throttle: OrderRateWindow;
  readonly position: { readonly netQty: number; readonly openBuyQty: number; readonly openSellQty: number };
  /** Gross notional of the account's open orders in every instrument, as the projection has them. */
  readonly openExposure: number;
  /** Absolute notional of the account's positions at mark, over every instrument (credit use with openExposure). */
  readonly positionsNotional?: number;
  readonly inFlight: InFlightView;
}

/** What the checks of one order read about its instrument and the venue, as gathered. */
export interface MarketFacts {
  readonly instrument: InstrumentInfo;
  readonly halted: boolean;
  readonly closed: boolean;
  readonly lastPrice: number;
  readonly venueHalted: boolean;
  readonly venueKillSwitch: boolean;
}

export interface OrderFacts {
  readonly account: AccountFacts;
  readonly market: MarketFacts;
  /** Monotonic nanoseconds (the throttle's clock). */
  readonly nowNs: number;
}

/** An order intent as the checks see it. */
export type Intent = Pick<SubmitOrderRequest, "instrument" | "side" | "price" | "qty" | "clientOrderId">;

const refuse = (reason: RejectReason, text: string): Refusal => ({ ok: false, reason, text });
const malformed = (p: FieldProblem): Refusal =>
  refuse(p.reason ?? RejectReason.MALFORMED_REQUEST, `${p.field}: ${p.message}`);

/**
 * What the pre-trade checks see of an order `intent` of `account`. For a replace, `replacing`
 * is the order as the projection knows it: its working quantity and exposure make way for
 * the replaced order's, and its filled quantity is taken out of the new quantity, so the
 * position and credit checks measure the order as it would stand after the replace.
 */
export function checkContextOf(account: string, intent: Intent, facts: OrderFacts, replacing?: Order): CheckContext {
  const { account: a, market: m } = facts;
  const mult = m.instrument.notionalPerTickLot;
  // A replace: the order's own working quantity and exposure leave, its filled part stays filled.
  const outQty = replacing === undefined ? 0 : replacing.leavesQty + replacing.cumQty;
  const outExposure =
    replacing === undefined ? 0 : (replacing.leavesQty * replacing.price + replacing.cumQty * intent.price) * mult;
  const ids = a.clientOrderIds;
  return {
    order: {
      account,
      instrument: intent.instrument,
      side: intent.side,
      price: intent.price,
      qty: intent.qty,
      clientOrderId: intent.clientOrderId,
    },
    account: {
      authenticated: true,
      permitted: a.record !== undefined,
      disabled: a.record?.disabled ?? false,
      killSwitch: a.killSwitch,
      limits: a.limits,
      // A replace may keep the order's client order id.
      clientOrderIds: replacing === undefined ? ids : { has: (id) => id !== replacing.clientOrderId && ids.has(id) },
      throttle: a.throttle,
      position: a.position.netQty,
      openBuyQty: a.position.openBuyQty + a.inFlight.buyQty - (intent.side === Side.BUY ? outQty : 0),
      openSellQty: a.position.openSellQty + a.inFlight.sellQty - (intent.side === Side.SELL ? outQty : 0),
      // Credit use (risk_admin.proto): open orders, those in flight, and positions at mark.
      openExposure: a.openExposure + (a.positionsNotional ?? 0) + a.inFlight.exposure - outExposure,
    },
    instrument: {
      halted: m.halted,
      closed: m.closed,
      lastPrice: m.lastPrice,
      referencePrice: m.instrument.referencePrice,
      notionalPerTickLot: mult,
    },
    venueHalted: m.venueHalted,
    venueKillSwitch: m.venueKillSwitch,
    nowNs: facts.nowNs,
  };
}

/** The pre-trade chain's refusal of an order, or undefined when it passes. */
function checksRefusal(ctx: CheckContext): Refusal | undefined {
  const reason = checkNewOrder(ctx);
  return reason === PASS
    ? undefined
    : refuse(reason as RejectReason, `pre-trade check failed: ${rejectReasonName(reason)}`);
}

/** A new order's syntax, before anything is gathered for it. */
export function submitSyntax(
  req: SubmitOrderRequest,
  knownInstrument: (symbol: string) => boolean,
): Refusal | undefined {
  const problem = submitProblem(req, knownInstrument);
  return problem === undefined ? undefined : malformed(problem);
}

/** A new order that passed `submitSyntax`: the command to write, or the pre-trade check it fails. */
export function decideSubmit(account: string, req: SubmitOrderRequest, facts: OrderFacts): Decision {
  const ctx = checkContextOf(account, req, facts);
  const refusal = checksRefusal(ctx);
  if (refusal !== undefined) return refusal;
  // Counted at the notional the credit check measured (a market order's at its risk price).
  const exposure = orderNotional(ctx);
  return {
    ok: true,
    hold: {
      instrument: req.instrument,
      side: req.side,
      qty: req.qty,
      exposure: Number.isFinite(exposure) ? exposure : 0,
    },
    partition: facts.market.instrument.partition,
    body: {
      $case: "newOrder",
      value: {
        clientOrderId: req.clientOrderId,
        instrument: req.instrument,
        side: req.side,
        orderType: req.orderType,
        timeInForce: req.timeInForce,
        price: req.price,
        stopPrice: req.stopPrice,
        qty: req.qty,
        postOnly: req.postOnly,
        stpMode: resolvedStpMode(req.stpMode, facts.account.record?.defaultStpMode ?? 0),
        expireTime: req.expireTime,
        displayQty: req.displayQty,
        stpGroup: req.stpGroup,
      },
    },
  };
}

/** What a cancel or replace targets, as gathered: the order id it resolved to and the order, if live. */
export interface TargetFacts {
  /** Undefined: the target names no order (a client order id the account does not know, or a bad id). */
  readonly orderId: number | undefined;
  /** The caller's live order with that id, if the projection has it (never another account's). */
  readonly order: Order | undefined;
  /** The caller's order with that id (or client order id) if it finished this session. */
  readonly finished?: Order | undefined;
}

/** A cancel or replace of an order that finished this session: ORDER_FINISHED, with the order (docs/api.md). */
function finishedRefusal(target: TargetFacts): Refusal | undefined {
  const f = target.finished;
  if (target.order !== undefined || f === undefined) return undefined;
  return { ok: false, reason: RejectReason.ORDER_FINISHED, text: `order ${f.orderId} is finished`, order: f };
}

/** A cancel's syntax, before anything is gathered for it. */
export function cancelSyntax(req: CancelOrderRequest): Refusal | undefined {
  const problem =
    (req.clientOrderId === "" ? undefined : clientOrderIdProblem("client_order_id", req.clientOrderId)) ??
    targetProblem(req);
  return problem === undefined ? undefined : malformed(problem);
}

const SYMBOL = /^[A-Za-z0-9_-]{1,32}$/;

/** The instrument and target of a cancel or replace, in their syntax (common.proto), before anything is looked up. */
function targetProblem(req: Pick<CancelOrderRequest, "instrument" | "target">): FieldProblem | undefined {
  if (req.instrument !== "" && !SYMBOL.test(req.instrument))
    return { field: "instrument", message: "must be 1..32 of [A-Za-z0-9_-]" };
  if (req.target?.$case === "origClientOrderId") return clientOrderIdProblem("orig_client_order_id", req.target.value);
  return undefined;
}

export function decideCancel(
  req: CancelOrderRequest,
  target: TargetFacts,
  instruments: ReadonlyMap<string, InstrumentInfo>,
): Decision {
  const finished = finishedRefusal(target);
  if (finished !== undefined) return finished;
  const orderId = target.orderId;
  if (orderId === undefined) return refuse(RejectReason.UNKNOWN_ORDER, "no such open order");
  const instrument = target.order?.instrument ?? req.instrument;
  return {
    ok: true,
    partition: instruments.get(instrument)?.partition ?? 0,
    body: { $case: "cancelOrder", value: { instrument, orderId, clientOrderId: req.clientOrderId, reason: 0 } },
  };
}

/** A replace's syntax, before anything is gathered for it. */
export function replaceSyntax(req: ReplaceOrderRequest): Refusal | undefined {
  const problem =
    clientOrderIdProblem("client_order_id", req.clientOrderId) ??
    targetProblem(req) ??
    (Number.isSafeInteger(req.qty) && req.qty >= 1 ? undefined : { field: "qty", message: "must be >= 1" }) ??
    (Number.isSafeInteger(req.price) && req.price >= 1 ? undefined : { field: "price", message: "must be >= 1" });
  return problem === undefined ? undefined : malformed(problem);
}

/**
 * A replace that passed `replaceSyntax`. `facts` are those of the instrument the replace
 * acts on (the live order's, else the request's), undefined when the instrument is unknown.
 */
export function decideReplace(
  account: string,
  req: ReplaceOrderRequest,
  target: TargetFacts,
  facts: OrderFacts | undefined,
  instruments: ReadonlyMap<string, InstrumentInfo>,
): Decision {
  const finished = finishedRefusal(target);
  if (finished !== undefined) return finished;
  const orderId = target.orderId;
  if (orderId === undefined) return refuse(RejectReason.UNKNOWN_ORDER, "no such open order");
  const existing = target.order;
  const instrument = existing?.instrument ?? req.instrument;
  if (facts !== undefined) {
    // The engine refuses replaces on a halted or closed instrument; so does the gateway, sooner.
    const refused = tradingStateReason(facts.market.venueHalted, facts.market);
    if (refused !== PASS)
      return refuse(
        refused as RejectReason,
        refused === RejectReason.MARKET_CLOSED ? `${instrument} is closed` : `${instrument} is halted`,
      );
  }
  // The replaced order passes the same checks as a new one: a replace must not be a way
  // around the quantity, value, collar, position or credit limits.
  if (existing !== undefined && facts !== undefined) {
    const ctx = checkContextOf(
      account,
      { instrument, side: existing.side, price: req.price, qty: req.qty, clientOrderId: req.clientOrderId },
      facts,
      existing,
    );
    const refusal = checksRefusal(ctx);
    if (refusal !== undefined) return refusal;
  }
  return {
    ok: true,
    hold:
      existing === undefined ? undefined : replaceHold(existing, req, facts?.market.instrument.notionalPerTickLot ?? 1),
    partition: instruments.get(instrument)?.partition ?? 0,
    body: {
      $case: "replaceOrder",
      value: {
        instrument,
        orderId,
        clientOrderId: req.clientOrderId,
        price: req.price,
        stopPrice: req.stopPrice,
        qty: req.qty,
      },
    },
  };
}

/**
 * What a replace adds to the account's open orders until it is applied: the growth of the
 * order's working quantity and exposure (a replace that shrinks the order holds nothing).
 */
export function replaceHold(existing: Order, req: Pick<ReplaceOrderRequest, "qty" | "price">, mult: number): Hold {
  const leaves = req.qty - existing.cumQty;
  const exposure = (leaves * req.price - existing.leavesQty * existing.price) * mult;
  return {
    instrument: existing.instrument,
    side: existing.side,
    qty: Math.max(0, leaves - existing.leavesQty),
    exposure: Number.isSafeInteger(exposure) ? Math.max(0, exposure) : 0,
  };
}

/** A mass cancel: one command per partition involved, or why not. */
export function decideMassCancel(
  req: MassCancelRequest,
  instruments: ReadonlyMap<string, InstrumentInfo>,
): Refusal | MassCancelDecision {
  if (req.instrument !== "" && !instruments.has(req.instrument))
    return refuse(RejectReason.UNKNOWN_INSTRUMENT, `unknown instrument ${JSON.stringify(req.instrument.slice(0, 40))}`);
  const partitions = [
    ...new Set(
      req.instrument === ""
        ? [...instruments.values()].map((i) => i.partition)
        : [instruments.get(req.instrument)!.partition],
    ),
  ];
  return {
    ok: true,
    partitions,
    body: {
      $case: "massCancel",
      value: {
        instrument: req.instrument,
        side: req.side,
        allAccounts: false,
        reason: 0,
        clientOrderId: req.clientOrderId,
      },
    },
  };
}

/**
 * The self-trade prevention mode a new order carries to the engine: its own, else the
 * account's default, else CANCEL_MAKER, NSE's default in continuous trading (its STPC FAQ:
 * "Cancel Passive Order" unless the member chooses otherwise). The engine reads UNSPECIFIED
 * the same way; the gateway resolves it anyway, so that every order shows its mode.
 */
export function resolvedStpMode(requested: number, accountDefault: number): StpMode {
  if (requested !== StpMode.UNSPECIFIED) return requested as StpMode;
  return accountDefault > StpMode.UNSPECIFIED ? (accountDefault as StpMode) : StpMode.CANCEL_MAKER;
}

/** The REJECTED report of a request the gateway refused itself (it never reached the log). */
export function rejectReport(
  account: string,
  kind: RequestKind,
  clientOrderId: string,
  refusal: Pick<Refusal, "reason" | "text" | "order">,
  nowMs: number,
): ExecutionReport {
  const echoed = echoedClientOrderId(clientOrderId);
  return {
    sequence: 0,
    execType: ExecType.REJECTED,
    order: refusal.order === undefined ? emptyOrder(account, "", echoed) : { ...refusal.order },
    requestKind: kind,
    requestClientOrderId: echoed,
    origClientOrderId: "",
    tradeId: 0,
    lastPrice: 0,
    lastQty: 0,
    lastNotional: 0,
    liquidity: LiquidityIndicator.UNSPECIFIED,
    rejectReason: refusal.reason,
    cancelReason: 0,
    text: refusal.text,
    commandSeq: 0,
    eventIndex: 0,
    transactTime: { seconds: Math.floor(nowMs / 1000), nanos: (nowMs % 1000) * 1_000_000 },
  };
}

/**
 * The client order id a refusal repeats: the request's own when it is one (at most 36
 * characters), else nothing: a report never carries more of a malformed field than its text's
 * short excerpt.
 */
export function echoedClientOrderId(clientOrderId: string): string {
  return clientOrderIdProblem("client_order_id", clientOrderId) === undefined ? clientOrderId : "";
}

/** A reject reason's name (a bounded set: the enum's names), for texts and metric labels. */
export function rejectReasonName(reason: number): string {
  return Object.entries(RejectReason).find(([, v]) => v === reason)?.[0] ?? String(reason);
}
