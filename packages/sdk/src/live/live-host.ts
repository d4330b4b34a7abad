import {
  credentials as grpcCredentials,
  Metadata,
  type ChannelCredentials,
  type ClientDuplexStream,
} from "@grpc/grpc-js";
import {
  MarketDataChannel,
  MarketDataClient,
  OrderEntryClient,
  type GetAccountLimitsResponse,
  type GetAccountPositionsResponse,
  type ListInstrumentsResponse,
  type ListOpenOrdersResponse,
  type OrderRequest,
  type SessionRequest,
  type SessionResponse,
  RECONNECT_CHANNEL_OPTIONS,
} from "@tradeplane/contracts";
import { ResilientSubscription } from "../market-data/resilient-subscription.ts";
import { StrategyDriver, type DriverCounters } from "../strategy/strategy-driver.ts";
import type { Strategy } from "../strategy/strategy.ts";
import { LiveMarket } from "./live-market.ts";

export interface LiveHostOptions {
  /** host:port of the risk gateway's OrderEntry. */
  readonly orderEntry: string;
  /** host:port of a market-data replica. */
  readonly marketData: string;
  /** The account's bearer token (read from a file by the caller; never logged). */
  readonly token: string;
  readonly account: string;
  readonly instruments: readonly string[];
  readonly strategy: Strategy;
  /** At most 24 printable characters; unique per account and run (e.g. name + start time). */
  readonly clientOrderIdPrefix: string;
  readonly credentials?: ChannelCredentials;
  /** Book depth the strategy reads. */
  readonly depth?: number;
  /** Timer resolution, ms. */
  readonly tickMs?: number;
  /** First reconnect delay, ms (doubles up to 5 s). */
  readonly retryMs?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * The strategy's clock, ms (default: the wall clock): `ctx.now()`, its timers and its
   * order rate run on it. A test drives a strategy's schedule by advancing it.
   */
  readonly clock?: () => number;
  /**
   * Milliseconds added to the one-second window the strategy holds its order rate in, so that
   * requests bunched on the way still reach the gateway within the account's limit (default
   * 100; at the limit, the strategy then sends at most limit orders per 1.1 s).
   */
  readonly rateSlackMs?: number;
}

/**
 * What went wrong in a live host, as a fixed set of codes (the `kind` of the runtime's
 * tp_strategy_errors_total); the log has the details.
 */
export const HostErrorKind = {
  /** A strategy callback threw; the host went on with the next event. */
  CallbackThrew: "callback_threw",
  /** The order-entry Session stream ended or failed; it is opened again. */
  SessionLost: "session_lost",
  /** The gateway refused the Session (bad token, account not permitted, invalid): not retried. */
  SessionRefused: "session_refused",
  /** Reloading the account's limits, positions or open orders from the gateway failed. */
  BaselineFailed: "baseline_failed",
  /** The market-data stream failed; it is subscribed again. */
  MarketDataLost: "market_data_lost",
  /** A gap in the execution reports; the Session is opened again from the first missing one. */
  ReportGap: "report_gap",
} as const;
export type HostErrorKind = (typeof HostErrorKind)[keyof typeof HostErrorKind];

/** The slack live strategies keep on their order rate (see `LiveHostOptions.rateSlackMs`). */
export const DEFAULT_RATE_SLACK_MS = 100;

const HEARTBEAT_MS = 1_000;
const MAX_RETRY_MS = 5_000;
const OUT_OF_RANGE = 11;
const FATAL = new Set([3 /* INVALID_ARGUMENT */, 7 /* PERMISSION_DENIED */, 16 /* UNAUTHENTICATED */]);

function unary<Res>(invoke: (cb: (err: Error | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    invoke((err, res) => (err ? reject(err) : resolve(res)));
  });
}

/**
 * Runs a strategy against a venue: loads the account's limits, positions and open orders,
 * follows market data (resuming after gaps and server restarts) and trades over one
 * Session stream that it reopens from the first report it has not applied whenever the
 * stream ends, a gap shows, or the gateway restarts. When the gateway no longer holds
 * those reports it reloads the account's baseline instead. `stop()` lets the strategy
 * finish, cancels every open order of the account and waits for the cancels to be acked.
 */
export class LiveHost {
  readonly driver: StrategyDriver;
  readonly market: LiveMarket;
  private readonly options: LiveHostOptions;
  private readonly orderEntry: OrderEntryClient;
  private readonly marketDataClient: MarketDataClient;
  private readonly metadata: Metadata;
  private subscription: ResilientSubscription | undefined;
  private session: ClientDuplexStream<SessionRequest, SessionResponse> | undefined;
  private sessionOpen = false;
  private sessionLost = false;
  private outSeq = 0;
  private outbox: OrderRequest[] = [];
  private flushScheduled = false;
  private timers: NodeJS.Timeout[] = [];
  private retryMs: number;
  private stopped = false;
  private unacked = 0;
  private ackWaiters: (() => void)[] = [];
  /** Sessions opened (1 + reconnects) and baselines loaded, for tests and metrics. */
  sessions = 0;
  baselines = 0;
  /** Errors by kind since start (they only rise), for metrics. */
  readonly errors: Record<HostErrorKind, number> = {
    callback_threw: 0,
    session_lost: 0,
    session_refused: 0,
    baseline_failed: 0,
    market_data_lost: 0,
    report_gap: 0,
  };
  /** Local milliseconds from a request's send to its ack, last value. */
  lastAckLatencyMs = 0;
  private readonly sentAt: number[] = [];

  private constructor(
    options: LiveHostOptions,
    instruments: ListInstrumentsResponse,
    limits: GetAccountLimitsResponse,
  ) {
    this.options = options;
    const creds = options.credentials ?? grpcCredentials.createInsecure();
    this.orderEntry = new OrderEntryClient(options.orderEntry, creds, RECONNECT_CHANNEL_OPTIONS);
    this.marketDataClient = new MarketDataClient(options.marketData, creds, RECONNECT_CHANNEL_OPTIONS);
    this.metadata = new Metadata();
    this.metadata.set("authorization", `Bearer ${options.token}`);
    this.retryMs = options.retryMs ?? 250;
    const clock = options.clock ?? Date.now;
    this.market = new LiveMarket(
      instruments.instruments.filter((i) => options.instruments.includes(i.symbol)),
      clock,
    );
    this.driver = new StrategyDriver({
      account: options.account,
      strategy: options.strategy,
      orders: { send: (r) => this.enqueue(r) },
      market: this.market,
      limits: limits.effective,
      clock,
      rateSlackMs: options.rateSlackMs ?? DEFAULT_RATE_SLACK_MS,
      clientOrderIdPrefix: options.clientOrderIdPrefix,
      ...(options.log !== undefined ? { log: options.log } : {}),
      onCallbackError: (err) => {
        this.errors.callback_threw++;
        options.log?.("strategy callback threw; going on with the next event", { err: String(err) });
      },
    });
  }

  /** Connects, loads the account and starts the strategy. */
  static async start(options: LiveHostOptions): Promise<LiveHost> {
    const creds = options.credentials ?? grpcCredentials.createInsecure();
    const oe = new OrderEntryClient(options.orderEntry, creds);
    const md = new MarketDataClient(options.marketData, creds);
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${options.token}`);
    try {
      const [instruments, limits] = await Promise.all([
        unary<ListInstrumentsResponse>((cb) => md.listInstruments({}, cb)),
        unary<GetAccountLimitsResponse>((cb) => oe.getAccountLimits({ account: options.account }, metadata, cb)),
      ]);
      const unknown = options.instruments.filter((s) => !instruments.instruments.some((i) => i.symbol === s));
      if (unknown.length > 0) throw new Error(`instruments not listed by the venue: ${unknown.join(", ")}`);
      const host = new LiveHost(options, instruments, limits);
      await host.loadBaseline();
      host.subscribe();
      host.openSession();
      host.driver.start();
      const clock = options.clock ?? Date.now;
      host.timers.push(setInterval(() => host.driver.advance(clock()), options.tickMs ?? 10));
      return host;
    } finally {
      oe.close();
      md.close();
    }
  }

  /**
   * False from the moment the order-entry Session is lost until it is open again (the
   * gateway is unreachable); true while the first one opens, since requests wait for it.
   */
  get reachable(): boolean {
    return !this.sessionLost;
  }

  get counters(): DriverCounters {
    return this.driver.counters;
  }

  /** The gateway's view of the account, replacing the local one. */
  private async loadBaseline(): Promise<void> {
    const account = this.options.account;
    // Positions first: the orders' sequence is then at least theirs, and the stream resumes from the lower.
    const positions = await unary<GetAccountPositionsResponse>((cb) =>
      this.orderEntry.getAccountPositions({ account, instrument: "" }, this.metadata, cb),
    );
    const open = await unary<ListOpenOrdersResponse>((cb) =>
      this.orderEntry.listOpenOrders({ account, instrument: "" }, this.metadata, cb),
    );
    this.driver.load({
      orders: open.orders,
      ordersAsOf: open.asOfSequence,
      positions: positions.positions,
      positionsAsOf: positions.asOfReportSequence,
    });
    this.baselines++;
  }

  private subscribe(): void {
    this.subscription = new ResilientSubscription({
      open: (request) => this.marketDataClient.subscribe(request),
      request: {
        instruments: [...this.options.instruments],
        channels: [MarketDataChannel.L2, MarketDataChannel.TRADES, MarketDataChannel.STATE],
        depth: this.options.depth ?? 10,
        conflationIntervalMs: 0,
        barInterval: 0,
        fromSequence: undefined,
      },
      onUpdate: (u) => {
        const change = this.market.apply(u);
        if (change.kind === "book") this.driver.onBook(change.instrument);
        else if (change.kind === "trade") this.driver.onTrade(change.trade);
      },
      onError: (err) => {
        this.errors.market_data_lost++;
        this.options.log?.("market data stream failed; resubscribing", { code: err.code });
      },
    });
    this.subscription.start();
  }

  private openSession(): void {
    if (this.stopped) return;
    this.sessions++;
    this.outSeq = 0;
    this.sessionOpen = false;
    // Requests of a session that ended are answered by the reports replayed, if at all.
    this.unacked = 0;
    this.sentAt.length = 0;
    for (const w of this.ackWaiters.splice(0)) w();
    const call = this.orderEntry.session(this.metadata);
    this.session = call;
    const current = (): boolean => this.session === call;
    call.on("data", (m: SessionResponse) => {
      if (!current()) return;
      const msg = m.message;
      if (msg === undefined) return;
      switch (msg.$case) {
        case "opened":
          this.sessionOpen = true;
          this.sessionLost = false;
          this.retryMs = this.options.retryMs ?? 250;
          this.scheduleFlush();
          return;
        case "acks":
          for (const ack of msg.value.acks) {
            this.driver.onAck(ack);
            const t = this.sentAt.shift();
            if (t !== undefined) this.lastAckLatencyMs = Date.now() - t;
            this.unacked--;
          }
          if (this.unacked <= 0) for (const w of this.ackWaiters.splice(0)) w();
          return;
        case "reports":
          for (const report of msg.value.reports) {
            if (this.driver.onReport(report) === "gap") {
              this.errors.report_gap++;
              this.options.log?.("report gap; reopening the session", { resumeFrom: this.driver.state.resumeFrom });
              this.reopen();
              return;
            }
          }
          return;
        case "heartbeat":
          return;
      }
    });
    const ended = (err?: Error & { code?: number }): void => {
      if (!current()) return;
      this.session = undefined;
      this.sessionOpen = false;
      if (this.stopped) return;
      this.sessionLost = true;
      if (err?.code !== undefined && FATAL.has(err.code)) {
        this.errors.session_refused++;
        this.options.log?.("order entry refused the session", { code: err.code, message: err.message });
        return;
      }
      this.errors.session_lost++;
      const delay = this.retryMs;
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
      const reload = err?.code === OUT_OF_RANGE;
      this.timers.push(
        setTimeout(() => {
          const next = reload ? this.loadBaseline() : Promise.resolve();
          next.then(
            () => this.openSession(),
            (e: unknown) => {
              this.errors.baseline_failed++;
              this.options.log?.("reloading the account from the gateway failed", { err: String(e) });
              this.openSession();
            },
          );
        }, delay),
      );
    };
    call.on("error", (err: Error & { code?: number }) => ended(err));
    call.on("end", () => ended());
    call.write({
      sequence: ++this.outSeq,
      message: {
        $case: "open",
        value: {
          account: this.options.account,
          cancelOnDisconnect: false,
          reportsFromSequence: this.driver.state.resumeFrom,
          heartbeatIntervalMs: HEARTBEAT_MS,
          acksOnly: false,
        },
      },
    });
    const beat = setInterval(() => {
      if (!current()) return clearInterval(beat);
      call.write({ sequence: ++this.outSeq, message: { $case: "heartbeat", value: { time: undefined } } });
    }, HEARTBEAT_MS);
    this.timers.push(beat);
  }

  private reopen(): void {
    const old = this.session;
    this.session = undefined;
    old?.cancel();
    this.openSession();
  }

  private enqueue(request: OrderRequest): void {
    this.outbox.push(request);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Everything the strategy sends in one turn of the event loop goes as one batch.
    setImmediate(() => {
      this.flushScheduled = false;
      const call = this.session;
      if (call === undefined || !this.sessionOpen || this.outbox.length === 0) return;
      const requests = this.outbox.splice(0);
      this.unacked += requests.length;
      const now = Date.now();
      for (let i = 0; i < requests.length; i++) this.sentAt.push(now);
      call.write({ sequence: ++this.outSeq, message: { $case: "batch", value: { requests } } });
    });
  }

  /** Lets the strategy finish, cancels the account's open orders, waits (at most `timeoutMs`) for the acks, disconnects. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.driver.stop();
    await new Promise<void>((resolve) => {
      const done = setTimeout(resolve, timeoutMs);
      const check = (): void => {
        if (this.outbox.length === 0 && this.unacked <= 0) {
          clearTimeout(done);
          resolve();
        } else this.ackWaiters.push(check);
      };
      setImmediate(check);
    });
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.subscription?.stop();
    const call = this.session;
    this.session = undefined;
    call?.end();
    call?.cancel();
    this.orderEntry.close();
    this.marketDataClient.close();
  }
}
