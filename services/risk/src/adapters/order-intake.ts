import {
  InstrumentState,
  type CancelOrderRequest,
  type Command,
  type ExecutionReport,
  type MassCancelRequest,
  type ReplaceOrderRequest,
  type SubmitOrderRequest,
} from "@tradeplane/contracts";
import { timestampOfMs, UnavailableError, type CommandLogWriter } from "@tradeplane/platform";
import { isVenueHalted } from "@tradeplane/risk-checks/checks";
import { InFlightOrders, type Hold } from "../domain/in-flight.ts";
import { effectiveLimits, type LimitOverrides, type Limits } from "@tradeplane/risk-checks/limits";
import {
  cancelSyntax,
  decideCancel,
  decideMassCancel,
  decideReplace,
  decideSubmit,
  replaceSyntax,
  submitSyntax,
  type Decision,
  type InstrumentInfo,
  type MassCancelDecision,
  type OrderFacts,
  type Refusal,
  type TargetFacts,
} from "../domain/order-intake.ts";
import type { OrderProjection } from "@tradeplane/positions/order-projection";
import { newOrderRateWindow, type OrderRateWindow } from "@tradeplane/risk-checks/order-rate-window";
import type { AccountRegistry } from "./accounts.ts";
import type { EventFollower } from "./event-follower.ts";
import type { OrderEntryMetrics } from "./order-entry-metrics.ts";
import { CommandUnconfirmedError } from "./order-errors.ts";

export interface OrderIntakeDeps {
  readonly instanceId: string;
  readonly instruments: ReadonlyMap<string, InstrumentInfo>;
  readonly defaultLimits: LimitOverrides;
  readonly accounts: AccountRegistry;
  readonly projection: OrderProjection;
  readonly follower: EventFollower;
  readonly log: CommandLogWriter;
  readonly commandTimeoutMs: number;
  /** Times the checks; the requests are counted where they arrive (order-entry-grpc, -session). */
  readonly metrics: OrderEntryMetrics;
  /**
   * With several gateway replicas (ADR 0003): the epoch this replica owns the account at,
   * written as each command's owner_epoch; undefined when it does not own it (then nothing
   * is written). Absent with one replica: every command carries owner_epoch 0.
   */
  readonly ownerEpochOf?: (account: string) => number | undefined;
  /** The accounts' order-rate windows, when someone else fills them too (a takeover, ADR 0003). */
  readonly throttles?: Map<string, OrderRateWindow>;
}

const NS_PER_MS = 1_000_000;

/**
 * The order intake shared by the unary calls and the Session stream: it gathers what the
 * decisions of `domain/order-intake.ts` read (accounts, the projection, what is in flight,
 * the throttle), calls them, and writes accepted commands to the log. `prepare*` are
 * synchronous, so a session batch is checked and appended in order.
 */
export class OrderIntake {
  private readonly inFlight = new InFlightOrders();
  /** Each account's order-rate window; shared with the takeover, which fills a new owner's from the log. */
  private readonly throttles: Map<string, OrderRateWindow>;
  /**
   * An account's effective limits, computed once per limits object: account records are
   * replaced, never changed, when an account is updated, so the object is the version.
   */
  private readonly effective = new WeakMap<LimitOverrides, Limits>();

  private readonly deps: OrderIntakeDeps;

  constructor(deps: OrderIntakeDeps) {
    this.deps = deps;
    this.throttles = deps.throttles ?? new Map();
  }

  prepareSubmit(account: string, req: SubmitOrderRequest): Decision {
    return (
      submitSyntax(req, (s) => this.deps.instruments.has(s)) ??
      this.checked(() => decideSubmit(account, req, this.factsOf(account, req.instrument)))
    );
  }

  prepareCancel(account: string, req: CancelOrderRequest): Decision {
    return cancelSyntax(req) ?? decideCancel(req, this.targetOf(account, req.target), this.deps.instruments);
  }

  prepareReplace(account: string, req: ReplaceOrderRequest): Decision {
    const syntax = replaceSyntax(req);
    if (syntax !== undefined) return syntax;
    const target = this.targetOf(account, req.target);
    if (target.orderId === undefined) return decideReplace(account, req, target, undefined, this.deps.instruments);
    const instrument = target.order?.instrument ?? req.instrument;
    const facts = this.deps.instruments.has(instrument) ? this.factsOf(account, instrument) : undefined;
    return this.checked(() => decideReplace(account, req, target, facts, this.deps.instruments));
  }

  prepareMassCancel(req: MassCancelRequest): Refusal | MassCancelDecision {
    return decideMassCancel(req, this.deps.instruments);
  }

  /** Appends a command for an account and returns its sequence. */
  async append(account: string, partition: number, body: Command["body"]): Promise<number> {
    const ownerEpoch = this.deps.ownerEpochOf === undefined ? 0 : this.deps.ownerEpochOf(account);
    if (ownerEpoch === undefined)
      throw new UnavailableError("the account is being handed over between gateway replicas; retry");
    const entry = { timestamp: timestampOfMs(Date.now()), account, source: this.deps.instanceId, ownerEpoch, body };
    return (await this.deps.log.append(partition, entry)).seq;
  }

  /**
   * Appends a new-order or replace command, holding its client order id as pending, and what
   * it adds to the account's open orders as in flight, until it is applied.
   */
  async appendTracked(
    account: string,
    clientOrderId: string,
    partition: number,
    body: Command["body"],
    held?: Hold,
  ): Promise<number> {
    const release = this.inFlight.track(account, clientOrderId, held);
    try {
      const seq = await this.append(account, partition, body);
      this.deps.follower.whenApplied(seq, this.deps.commandTimeoutMs).then(release, release);
      return seq;
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * This account's reports for command `seq` (stored), once the engine's events for it are
   * applied; CommandUnconfirmedError when they are not within the command timeout.
   */
  async reportsOf(account: string, seq: number): Promise<ExecutionReport[]> {
    let applied;
    try {
      applied = await this.deps.follower.whenApplied(seq, this.deps.commandTimeoutMs);
    } catch (err) {
      throw new CommandUnconfirmedError(seq, { cause: err });
    }
    return applied.filter((r) => r.account === account).map((r) => r.report);
  }

  private checked(decide: () => Decision): Decision {
    return this.deps.metrics.timed(decide);
  }

  /** Resolves a cancel/replace target to an order id and the account's own order with it, live or finished. */
  private targetOf(
    account: string,
    t: { $case: "orderId"; value: number } | { $case: "origClientOrderId"; value: string } | undefined,
  ): TargetFacts {
    const { projection } = this.deps;
    if (t === undefined) return { orderId: undefined, order: undefined };
    if (t.$case === "origClientOrderId") {
      const orderId = projection.orderIdByClientId(account, t.value);
      if (orderId !== undefined) return { orderId, order: projection.orderById(orderId) };
      const finished = projection.finishedOrderByClientId(account, t.value);
      return { orderId: finished?.orderId, order: undefined, finished };
    }
    const orderId = Number.isSafeInteger(t.value) && t.value > 0 ? t.value : undefined;
    if (orderId === undefined) return { orderId, order: undefined };
    // Another account's order is gathered as nothing: the request still goes to the engine,
    // which refuses it as it refuses an id it does not know, so neither the answer nor its
    // timing tells the caller whether the id is someone else's live order.
    const order = projection.orderById(orderId);
    if (order !== undefined) return { orderId, order: order.account === account ? order : undefined };
    return { orderId, order: undefined, finished: projection.finishedOrder(account, orderId) };
  }

  /** Everything the checks of an order of `account` in `instrument` (a listed one) read. */
  private factsOf(account: string, instrument: string): OrderFacts {
    const { accounts, projection } = this.deps;
    const record = accounts.account(account);
    const limits = this.limitsOf(record?.limits);
    const state = projection.instrumentState(instrument);
    return {
      account: {
        record,
        limits,
        killSwitch: accounts.accountKillSwitch(account) !== undefined,
        clientOrderIds: this.inFlight.clientOrderIds(account, projection.clientOrderIdsOf(account)),
        throttle: this.throttleOf(account),
        position: projection.positionOf(account, instrument),
        openExposure: projection.openExposure(account),
        positionsNotional: projection.positionsNotional(account),
        inFlight: this.inFlight.of(account, instrument),
      },
      market: {
        instrument: this.instrumentOf(instrument),
        halted: state === InstrumentState.HALTED,
        closed: state === InstrumentState.CLOSED,
        lastPrice: projection.lastPrice(instrument),
        // Every listed instrument HALTED: the venue is halted (there is no venue-level state in the log).
        venueHalted: isVenueHalted(projection.haltedInstruments, this.deps.instruments.size),
        venueKillSwitch: accounts.venueKillSwitch() !== undefined,
      },
      nowNs: performance.now() * NS_PER_MS,
    };
  }

  /** The instrument's terms, with the reference price the engine last announced (ChangeSession moves it). */
  private instrumentOf(symbol: string): InstrumentInfo {
    const configured = this.deps.instruments.get(symbol)!;
    const announced = this.deps.projection.referencePrice(symbol);
    return announced === undefined || announced === configured.referencePrice
      ? configured
      : { ...configured, referencePrice: announced };
  }

  private limitsOf(own: LimitOverrides | undefined): Limits {
    const key = own ?? this.deps.defaultLimits;
    let limits = this.effective.get(key);
    if (limits === undefined) {
      limits = effectiveLimits(this.deps.defaultLimits, own);
      this.effective.set(key, limits);
    }
    return limits;
  }

  private throttleOf(account: string): OrderRateWindow {
    let throttle = this.throttles.get(account);
    if (throttle === undefined) {
      throttle = newOrderRateWindow();
      this.throttles.set(account, throttle);
    }
    return throttle;
  }
}
