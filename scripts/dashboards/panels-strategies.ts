/**
 * The strategies' dashboard: what each StrategyDeployment's runtime sends, gets filled and
 * has refused, its position and P&L, its sessions and errors, per deployment (`$deployment`) on the
 * venues chosen (`$venue`: each `tp_strategy_*` series is one venue's, a strategy across venues
 * has one per venue). The `_total` metrics are counters, read with rate() or increase().
 */
import { stat, ts, type DashboardSpec } from "./dashboard-spec.ts";

/** The chosen deployments, on the chosen venues. */
const D = '{venue=~"$venue",deployment=~"$deployment"}';
const rate = (metric: string) => `rate(${metric}${D}[$__rate_interval])`;

export const STRATEGIES: DashboardSpec = {
  uid: "tradeplane-strategies",
  title: "Tradeplane / Strategies",
  description:
    "StrategyDeployments: requests, fills, refusals, open orders, position, P&L, sessions and errors per deployment.",
  venueFrom: "tp_strategy_orders_sent_total",
  variables: [{ name: "deployment", label: "Strategy", from: "tp_strategy_orders_sent_total" }],
  rows: [
    {
      title: "Orders",
      panels: [
        ts(
          "Requests sent per second",
          "Requests sent to the risk gateway: new orders, cancels, replaces, mass cancels.",
          "ops",
          {
            expr: `sum by (deployment) (${rate("tp_strategy_orders_sent_total")})`,
            legend: "{{deployment}}",
          },
        ),
        ts("Fills per second", "Fills (trade reports) of the strategy's orders.", "ops", {
          expr: `sum by (deployment) (${rate("tp_strategy_fills_total")})`,
          legend: "{{deployment}}",
        }),
        ts(
          "Refusals per second",
          "Requests the venue refused (Session acks not accepted, reject reports; their reasons are in Risk: Rejects per second by reason), and orders the deployment's own limits (maxPosition, maxOrdersPerSecond: its throttle) refused before sending.",
          "ops",
          {
            expr: `sum by (deployment) (${rate("tp_strategy_orders_refused_total")})`,
            legend: "{{deployment}} by the venue",
          },
          {
            expr: `sum by (deployment) (${rate("tp_strategy_orders_refused_locally_total")})`,
            legend: "{{deployment}} by its own limits",
          },
        ),
        ts("Open orders", "Working orders of the deployment's account, as the strategy's state holds them.", "short", {
          expr: `sum by (deployment) (tp_strategy_open_orders${D})`,
          legend: "{{deployment}}",
        }),
        ts(
          "Last acknowledgement latency",
          "The last request's time from sending to the gateway's Session ack, as each scrape finds it (one value, not a distribution).",
          "s",
          { expr: `max by (deployment) (tp_strategy_ack_latency_seconds${D})`, legend: "{{deployment}}" },
        ),
      ],
    },
    {
      title: "Position and P&L",
      panels: [
        ts("Net position (lots)", "Net position per instrument, lots (negative when short).", "short", {
          expr: `sum by (deployment, instrument) (tp_strategy_position_lots${D})`,
          legend: "{{deployment}} {{instrument}}",
        }),
        ts("Realised P&L", "Over the deployment's instruments, in the venue's minor currency units.", "short", {
          expr: `sum by (deployment) (tp_strategy_realised_pnl${D})`,
          legend: "{{deployment}}",
        }),
        ts(
          "Unrealised P&L",
          "Over the deployment's instruments at each one's last trade from market data, minor units.",
          "short",
          { expr: `sum by (deployment) (tp_strategy_unrealised_pnl${D})`, legend: "{{deployment}}" },
        ),
      ],
    },
    {
      title: "Sessions and errors",
      panels: [
        ts(
          "Session reconnects",
          "Session streams to the risk gateway opened again after one ended; a restarted runtime's first session counts too.",
          "short",
          {
            expr: `sum by (deployment) (increase(tp_strategy_sessions_total${D}[$__rate_interval]))`,
            legend: "{{deployment}}",
          },
        ),
        stat(
          "Sessions opened",
          "Session streams each runtime opened since it started: 1, plus one per reconnect.",
          "short",
          {
            expr: `max by (deployment) (tp_strategy_sessions_total${D})`,
            legend: "{{deployment}}",
          },
        ),
        ts(
          "Errors by kind",
          "What went wrong in each runtime, by venue: callback_threw (a strategy callback threw; the runtime went on with the next event), session_lost (the Session to the risk gateway ended; reopened), session_refused (the gateway refused it: token or account; not retried), baseline_failed (reloading the account failed), market_data_lost (resubscribed), report_gap (the Session reopened from the first missing report). The runtime's log has the details.",
          "short",
          {
            expr: `sum by (deployment, venue, kind) (increase(tp_strategy_errors_total${D}[$__rate_interval]))`,
            legend: "{{deployment}} {{venue}} {{kind}}",
          },
        ),
      ],
    },
  ],
};
