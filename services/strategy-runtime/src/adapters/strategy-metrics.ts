import { Gauge, type Registry } from "prom-client";
import type { LiveHost } from "@tradeplane/sdk";

/**
 * The runtime's `tp_strategy_*` metrics, read from the host when scraped: orders, fills,
 * position and P&L per instrument, and the last decision-to-ack latency.
 */
export function registerStrategyMetrics(
  registry: Registry,
  host: () => LiveHost | undefined,
  instruments: readonly string[],
): void {
  const counter = (name: string, help: string, read: (h: LiveHost) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const h = host();
        if (h !== undefined) this.set(read(h));
      },
    });
  };
  counter("tp_strategy_orders_sent_total", "Requests sent to the gateway", (h) => h.counters.sent);
  counter(
    "tp_strategy_orders_refused_locally_total",
    "Orders the account's limits refused before sending",
    (h) => h.counters.refusedLocally,
  );
  counter("tp_strategy_orders_refused_total", "Requests the gateway refused", (h) => h.counters.refusedByGateway);
  counter("tp_strategy_fills_total", "Fills of the strategy's orders", (h) => h.counters.fills);
  counter("tp_strategy_open_orders", "Working orders of the account", (h) => h.driver.state.openOrders().length);
  counter(
    "tp_strategy_ack_latency_seconds",
    "Last time from sending a request to its acknowledgement, seconds",
    (h) => h.lastAckLatencyMs / 1000,
  );
  counter("tp_strategy_sessions_total", "Session streams opened (1 + reconnects)", (h) => h.sessions);
  const perInstrument = (name: string, help: string, read: (h: LiveHost, i: string) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ["instrument"],
      registers: [registry],
      collect() {
        const h = host();
        if (h === undefined) return;
        for (const i of instruments) this.set({ instrument: i }, read(h, i));
      },
    });
  };
  perInstrument("tp_strategy_position_lots", "Net position, lots", (h, i) => h.driver.state.netQty(i));
  perInstrument("tp_strategy_realised_pnl", "Realised P&L, minor units", (h, i) => h.driver.state.pnl(i).realised);
  perInstrument("tp_strategy_unrealised_pnl", "Unrealised P&L at the last trade, minor units", (h, i) => {
    const mark = h.market.lastPrice(i);
    return h.driver.state.pnl(i, mark > 0 ? mark : undefined).unrealised;
  });
}
