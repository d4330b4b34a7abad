import { MarketDataChannel, Side, type BookLevel, type SubscribeResponse } from "@tradeplane/contracts";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { MILLISECOND_BUCKETS_S } from "@tradeplane/platform";
import { barMessage } from "../domain/bars.ts";
import { levelDiff } from "../domain/conflation.ts";
import { UpdateHistory } from "../domain/history.ts";
import type { InstrumentMarket } from "../domain/instrument-market.ts";
import type { MarketState } from "../domain/market-state.ts";
import type { Subscription } from "../domain/requests.ts";
import { Subscriber, type Outgoing, type Sink } from "./subscriber.ts";

/** One L2 depth of one instrument: its subscribers and the top levels they were last sent. */
interface DepthGroup {
  readonly depth: number;
  readonly subscribers: Set<Subscriber>;
  bids: BookLevel[];
  asks: BookLevel[];
}

interface InstrumentRoutes {
  readonly byChannel: Map<MarketDataChannel, Set<Subscriber>>;
  readonly l2: Map<number, DepthGroup>;
  readonly bars: Map<number, Set<Subscriber>>;
}

export interface HubOptions {
  readonly state: MarketState;
  readonly historySize: number;
  /** The history restored from a snapshot with the state (default: an empty one of `historySize`). */
  readonly history?: UpdateHistory;
  /** L3/TRADES/STATE updates queued per subscriber before it is cut off. */
  readonly maxQueued: number;
  /** Shortest time between two fan-out rounds (0 = after every batch of events). */
  readonly fanoutIntervalMs: number;
  /** After a fan-out round that took t, wait at least t x this before the next (0 = no wait). */
  readonly fanoutDutyWait?: number;
  readonly registry: Registry;
}

/** Every LATENCY_SAMPLE-th write is timed (a power of two). */
const LATENCY_SAMPLE = 8;

/** The transports a subscriber comes through (the names Subscriber is given). */
const TRANSPORTS = ["grpc", "websocket"] as const;

const CHANNEL_NAMES = Object.fromEntries(
  Object.entries(MarketDataChannel)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => [v, k]),
) as Record<number, string>;

/**
 * Fan-out: takes what the market state produced since the last flush and offers it to the
 * subscribers that asked for it. Event-channel updates (L3, TRADES, STATE) are offered one
 * by one and kept in the history for resumes; state channels (L1, L2, BARS, STATS,
 * AUCTION) are offered once per flush with their latest state, L2 cut per subscribed depth
 * (computed once per depth, shared by its subscribers). The follower calls `flush` after
 * each batch of events it applied, so a burst of events costs one round of writes.
 */
export class Hub {
  private readonly state: MarketState;
  readonly history: UpdateHistory;
  private readonly maxQueued: number;
  private readonly fanoutIntervalMs: number;
  private readonly dutyCycleWait: number;
  private readonly routes = new Map<string, InstrumentRoutes>();
  private readonly subscribers = new Set<Subscriber>();
  private batchReceivedAt: number | undefined;
  private flushScheduled = false;
  private readonly metrics;

  constructor(options: HubOptions) {
    this.state = options.state;
    this.history = options.history ?? new UpdateHistory(options.historySize);
    this.maxQueued = options.maxQueued;
    this.fanoutIntervalMs = options.fanoutIntervalMs;
    this.dutyCycleWait = options.fanoutDutyWait ?? 1;
    for (const symbol of this.state.instruments.keys())
      this.routes.set(symbol, { byChannel: new Map(), l2: new Map(), bars: new Map() });
    const registers = [options.registry];
    const subscribersByTransport = (): Map<string, number> => {
      // Every transport is listed, at 0 when none is open: a dashboard shows 0, not "no data".
      const m = new Map<string, number>(TRANSPORTS.map((t) => [t, 0]));
      for (const s of this.subscribers) m.set(s.transport, (m.get(s.transport) ?? 0) + 1);
      return m;
    };
    const subscribers = this.subscribers;
    const sentByChannel = this.sentByChannel;
    this.metrics = {
      subscribers: new Gauge({
        name: "tp_md_subscribers",
        help: "Open subscriptions by transport",
        labelNames: ["transport"],
        registers,
        collect() {
          this.reset();
          for (const [t, n] of subscribersByTransport()) this.set({ transport: t }, n);
        },
      }),
      updates: new Counter({
        name: "tp_md_updates_sent_total",
        help: "Updates written to subscribers, by channel",
        labelNames: ["channel"],
        registers,
        collect() {
          // Counted in plain numbers on the write path; published at scrape time.
          this.reset();
          for (const [channel, n] of sentByChannel) this.inc({ channel: CHANNEL_NAMES[channel] ?? String(channel) }, n);
        },
      }),
      conflations: new Counter({
        name: "tp_md_conflations_total",
        help: "Updates merged into one still waiting for its subscriber, by channel",
        labelNames: ["channel"],
        registers,
      }),
      slow: new Counter({
        name: "tp_md_slow_consumer_disconnects_total",
        help: "Subscriptions ended because their L3/TRADES/STATE queue overflowed",
        registers,
      }),
      queueDepth: new Gauge({
        name: "tp_md_queue_depth",
        help: "Updates waiting in subscriber queues: total and the deepest queue",
        labelNames: ["stat"],
        registers,
        collect() {
          let total = 0;
          let max = 0;
          for (const s of subscribers) {
            total += s.depth;
            max = Math.max(max, s.depth);
          }
          this.set({ stat: "total" }, total);
          this.set({ stat: "max" }, max);
        },
      }),
      latency: new Histogram({
        name: "tp_md_event_to_send_seconds",
        help: "From the arrival of an event from the log to the write of the update reflecting it, seconds (one write in 8 sampled)",
        buckets: [...MILLISECOND_BUCKETS_S],
        registers,
      }),
    };
    // Series exist from the start, at 0: a rate over them is 0 until the first conflation.
    for (const channel of Object.values(CHANNEL_NAMES)) this.metrics.conflations.inc({ channel }, 0);
  }

  private readonly sentByChannel = new Map<number, number>();
  conflationCount = 0;
  sentCount = 0;
  slowDisconnects = 0;

  private readonly hooks = {
    sent: (out: Outgoing): void => {
      // One write in LATENCY_SAMPLE is timed: the histogram's shape, at a fraction of the cost.
      if ((++this.sentCount & (LATENCY_SAMPLE - 1)) === 0)
        this.metrics.latency.observe((performance.now() - out.receivedAt) / 1000);
      this.sentByChannel.set(out.msg.channel, (this.sentByChannel.get(out.msg.channel) ?? 0) + 1);
    },
    conflated: (channel: number): void => {
      this.conflationCount++;
      this.metrics.conflations.inc({ channel: CHANNEL_NAMES[channel] ?? String(channel) });
    },
    overflowed: (s: Subscriber): void => {
      this.slowDisconnects++;
      this.metrics.slow.inc();
      this.unsubscribe(s);
    },
  };

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * When the next fan-out round may start: after the pacing interval, and never sooner than
   * the last round took (`dutyCycle`), so fan-out cannot starve the log: a service that falls
   * behind catches up in bigger batches instead of spiralling (the updates in between merge,
   * as conflation).
   */
  private nextFlushAt = 0;

  /** An event arrived from the log: note when, and flush once the batch it belongs to is applied. */
  received(at: number): void {
    this.batchReceivedAt ??= at;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const wait = this.nextFlushAt - performance.now();
    if (wait > 0) setTimeout(() => this.flush(), wait);
    else setImmediate(() => this.flush());
  }

  /** A batch of events is applied: fan out now unless pacing says to wait. */
  batchDone(): void {
    if (performance.now() >= this.nextFlushAt) this.flush();
  }

  /** Offers everything produced since the last flush to the subscribers. */
  flush(): void {
    this.flushScheduled = false;
    const started = performance.now();
    const receivedAt = this.batchReceivedAt ?? performance.now();
    this.batchReceivedAt = undefined;
    const touched = new Set<Subscriber>();
    const offer = (subs: Iterable<Subscriber> | undefined, out: Outgoing): void => {
      if (subs === undefined) return;
      for (const s of subs) {
        s.offer(out);
        touched.add(s);
      }
    };
    for (const msg of this.state.takeOutbox()) {
      this.history.push(msg);
      offer(this.routes.get(msg.instrument)?.byChannel.get(msg.channel), { msg, receivedAt });
    }
    for (const m of this.state.instruments.values()) {
      const d = m.dirty;
      if (!d.l1 && !d.l2 && !d.stats && !d.auction && d.bars.size === 0) continue;
      const routes = this.routes.get(m.symbol)!;
      const subs = (c: MarketDataChannel) => routes.byChannel.get(c);
      if (d.l1) {
        d.l1 = false;
        if (subs(MarketDataChannel.L1)?.size) offer(subs(MarketDataChannel.L1), { msg: this.l1(m), receivedAt });
      }
      if (d.l2) {
        d.l2 = false;
        for (const g of routes.l2.values()) {
          const bids = m.book.levels(Side.BUY, g.depth);
          const asks = m.book.levels(Side.SELL, g.depth);
          const changes = [...levelDiff(Side.BUY, g.bids, bids), ...levelDiff(Side.SELL, g.asks, asks)];
          g.bids = bids;
          g.asks = asks;
          if (changes.length === 0) continue;
          const msg = this.message(m, MarketDataChannel.L2, m.sequence(MarketDataChannel.L2), {
            $case: "bookUpdate",
            value: { changes },
          });
          offer(g.subscribers, { msg, receivedAt });
        }
      }
      if (d.stats) {
        d.stats = false;
        if (subs(MarketDataChannel.STATS)?.size)
          offer(subs(MarketDataChannel.STATS), { msg: this.stats(m), receivedAt });
      }
      if (d.auction) {
        d.auction = false;
        if (subs(MarketDataChannel.AUCTION)?.size)
          offer(subs(MarketDataChannel.AUCTION), { msg: this.auction(m), receivedAt });
      }
      if (d.bars.size > 0) {
        for (const [interval, bars] of d.bars) {
          const barSubs = routes.bars.get(interval);
          if (barSubs?.size)
            for (const bar of bars.values())
              offer(barSubs, {
                msg: this.message(m, MarketDataChannel.BARS, m.barSeq.get(interval)!, {
                  $case: "bar",
                  value: barMessage(interval, bar),
                }),
                receivedAt,
              });
        }
        d.bars.clear();
      }
    }
    for (const s of touched) s.pump();
    const took = performance.now() - started;
    this.nextFlushAt = started + Math.max(this.fanoutIntervalMs, took * (1 + this.dutyCycleWait));
  }

  private message(
    m: InstrumentMarket,
    channel: MarketDataChannel,
    sequence: number,
    update: SubscribeResponse["update"],
  ): SubscribeResponse {
    return { sequence, sourceSequence: m.lastSource, instrument: m.symbol, channel, time: m.lastTime, update };
  }

  private l1(m: InstrumentMarket): SubscribeResponse {
    return this.message(m, MarketDataChannel.L1, m.sequence(MarketDataChannel.L1), {
      $case: "topOfBook",
      value: m.topOfBook(),
    });
  }

  private stats(m: InstrumentMarket): SubscribeResponse {
    return this.message(m, MarketDataChannel.STATS, m.sequence(MarketDataChannel.STATS), {
      $case: "stats",
      value: m.statsMessage(),
    });
  }

  private auction(m: InstrumentMarket): SubscribeResponse {
    return this.message(m, MarketDataChannel.AUCTION, m.sequence(MarketDataChannel.AUCTION), {
      $case: "auction",
      value: m.auctionInfo(),
    });
  }

  /**
   * Opens a subscription: its snapshots (or its replay from `fromSequence` when the history
   * still holds it), then live updates. Synchronous, so nothing is missed or sent twice
   * between the snapshot and the first live update.
   */
  subscribe(sink: Sink, sub: Subscription, transport: string): Subscriber {
    this.flush();
    const s = new Subscriber(sub, transport, sink, this.hooks, this.maxQueued);
    const now = performance.now();
    const position = this.state.position;
    const channels = sub.channels;
    const from = sub.fromSequence;
    const replay = from !== undefined && this.history.holds(from);
    if (replay) {
      const wanted = new Set(sub.instruments);
      for (const msg of this.history.since(from, (u) => wanted.has(u.instrument) && channels.has(u.channel)))
        s.offer({ msg, receivedAt: now }, true);
    }
    s.minSource = replay ? Math.max(from, position) : position;
    for (const symbol of sub.instruments) {
      const m = this.state.instruments.get(symbol)!;
      const routes = this.routes.get(symbol)!;
      const snap = (channel: MarketDataChannel, seq: number, update: SubscribeResponse["update"]): void =>
        s.offer(
          {
            msg: { sequence: seq, sourceSequence: position, instrument: symbol, channel, time: m.lastTime, update },
            receivedAt: now,
          },
          true,
        );
      for (const c of channels) {
        if (c === MarketDataChannel.L2) {
          let g = routes.l2.get(sub.depth);
          if (g === undefined) {
            g = {
              depth: sub.depth,
              subscribers: new Set(),
              bids: m.book.levels(Side.BUY, sub.depth),
              asks: m.book.levels(Side.SELL, sub.depth),
            };
            routes.l2.set(sub.depth, g);
          }
          g.subscribers.add(s);
          snap(c, m.sequence(c), { $case: "bookSnapshot", value: { depth: sub.depth, bids: g.bids, asks: g.asks } });
          continue;
        }
        if (c === MarketDataChannel.BARS) {
          let set = routes.bars.get(sub.barInterval);
          if (set === undefined) routes.bars.set(sub.barInterval, (set = new Set()));
          set.add(s);
          const current = m.bars.get(sub.barInterval)!.current;
          if (current !== undefined)
            snap(c, m.barSeq.get(sub.barInterval)!, { $case: "bar", value: barMessage(sub.barInterval, current) });
          continue;
        }
        let set = routes.byChannel.get(c);
        if (set === undefined) routes.byChannel.set(c, (set = new Set()));
        set.add(s);
        if (c === MarketDataChannel.L3 && !replay)
          snap(c, m.sequence(c), { $case: "orderBookSnapshot", value: m.orderBookSnapshot() });
        else if (c === MarketDataChannel.STATE && !replay)
          snap(c, m.sequence(c), { $case: "status", value: m.statusMessage() });
        else if (c === MarketDataChannel.L1) snap(c, m.sequence(c), { $case: "topOfBook", value: m.topOfBook() });
        else if (c === MarketDataChannel.STATS) snap(c, m.sequence(c), { $case: "stats", value: m.statsMessage() });
        else if (c === MarketDataChannel.AUCTION) snap(c, m.sequence(c), { $case: "auction", value: m.auctionInfo() });
      }
    }
    this.subscribers.add(s);
    s.pump();
    return s;
  }

  unsubscribe(s: Subscriber): void {
    if (!this.subscribers.delete(s)) return;
    s.close();
    for (const symbol of s.subscription.instruments) {
      const routes = this.routes.get(symbol);
      if (routes === undefined) continue;
      for (const set of routes.byChannel.values()) set.delete(s);
      for (const set of routes.bars.values()) set.delete(s);
      for (const [depth, g] of routes.l2) {
        g.subscribers.delete(s);
        if (g.subscribers.size === 0) routes.l2.delete(depth);
      }
    }
  }

  /** Ends every subscription (shutdown). */
  closeAll(): void {
    for (const s of [...this.subscribers]) this.unsubscribe(s);
  }
}
