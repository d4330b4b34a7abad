import { Counter, Gauge, type Registry } from "prom-client";
import { HostErrorKind, type LiveHost } from "@tradeplane/sdk";

/** One venue the strategy trades on: its name, the account it trades there, and its host. */
export interface StrategyVenue {
  readonly venue: string;
  readonly account: string;
  readonly host: LiveHost;
}

/**
 * The runtime's `tp_strategy_*` metrics, read from each venue's host when scraped: requests,
 * refusals, fills, sessions and errors by kind (counters), open orders, the last ack latency, and position and
 * P&L per instrument (gauges), every series labelled with its venue and the account there (a
 * strategy across venues trades each with its own account).
 *
 * The hosts count in plain numbers that only rise; each counter goes up at a scrape by what
 * its host counted since the last one, so Prometheus sees a real counter (`_total`, a
 * restart starts it at 0 again, which rate() expects).
 */
export function registerStrategyMetrics(
  registry: Registry,
  venues: readonly StrategyVenue[],
  instruments: readonly string[],
): void {
  const counter = (name: string, help: string, read: (h: LiveHost) => number): void => {
    /** What each venue's host had counted at the last scrape. */
    const seen = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: ["venue", "account"],
      registers: [registry],
      collect() {
        for (const { venue, account, host } of venues) {
          const now = read(host);
          const since = now - (seen.get(venue) ?? 0);
          seen.set(venue, now);
          // 0 too: every venue's series exists from the first scrape.
          this.inc({ venue, account }, Math.max(0, since));
        }
      },
    });
  };
  const gauge = (name: string, help: string, read: (h: LiveHost) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ["venue", "account"],
      registers: [registry],
      collect() {
        for (const { venue, account, host } of venues) this.set({ venue, account }, read(host));
      },
    });
  };
  const perInstrument = (name: string, help: string, read: (h: LiveHost, i: string) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ["venue", "account", "instrument"],
      registers: [registry],
      collect() {
        for (const { venue, account, host } of venues)
          for (const instrument of instruments) this.set({ venue, account, instrument }, read(host, instrument));
      },
    });
  };

  counter(
    "tp_strategy_orders_sent_total",
    "Requests sent to the venue's risk gateway (new, cancel, replace, mass cancel)",
    (h) => h.counters.sent,
  );
  counter(
    "tp_strategy_orders_refused_locally_total",
    "Orders the deployment's own limits refused before sending",
    (h) => h.counters.refusedLocally,
  );
  counter(
    "tp_strategy_orders_refused_total",
    "Requests the venue's gateway refused: Session acks not accepted, and reject reports",
    (h) => h.counters.refusedByGateway,
  );
  counter("tp_strategy_fills_total", "Fills (trade reports) of the strategy's orders", (h) => h.counters.fills);
  counter(
    "tp_strategy_sessions_total",
    "Session streams opened to the venue (1, plus one per reconnect)",
    (h) => h.sessions,
  );
  gauge(
    "tp_strategy_open_orders",
    "Working orders of the account, as the strategy's state holds them",
    (h) => h.driver.state.openOrders().length,
  );
  gauge(
    "tp_strategy_ack_latency_seconds",
    "The last request's time from sending to the gateway's Session ack, seconds",
    (h) => h.lastAckLatencyMs / 1000,
  );
  /** What each venue's host had counted of each error kind at the last scrape. */
  const errorsSeen = new Map<string, number>();
  new Counter({
    name: "tp_strategy_errors_total",
    help: "Errors by kind: a strategy callback threw, the Session was lost or refused, a reload, market data or a report gap",
    labelNames: ["venue", "account", "kind"],
    registers: [registry],
    collect() {
      for (const { venue, account, host } of venues)
        for (const kind of Object.values(HostErrorKind)) {
          const key = `${venue}\u0000${kind}`;
          const now = host.errors[kind];
          // Every kind's series from the first scrape, at 0 until it happens.
          this.inc({ venue, account, kind }, Math.max(0, now - (errorsSeen.get(key) ?? 0)));
          errorsSeen.set(key, now);
        }
    },
  });
  perInstrument("tp_strategy_position_lots", "Net position, lots", (h, i) => h.driver.state.netQty(i));
  perInstrument("tp_strategy_realised_pnl", "Realised P&L, minor units", (h, i) => h.driver.state.pnl(i).realised);
  perInstrument("tp_strategy_unrealised_pnl", "Unrealised P&L at the last trade, minor units", (h, i) => {
    const mark = h.market.lastPrice(i);
    return h.driver.state.pnl(i, mark > 0 ? mark : undefined).unrealised;
  });
}
