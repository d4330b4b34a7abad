/**
 * The Grafana dashboards, defined once as data: each a list of rows of panels, each panel
 * one or more PromQL queries (the types and helpers are in dashboard-spec.ts; the larger
 * dashboards have a panels-*.ts of their own). `dashboards.ts` turns them into the JSON the
 * chart provisions (charts/tradeplane/dashboards/*.json); a test fails when the checked-in
 * JSON is stale, and the Prometheus integration test runs every query against a live local
 * venue.
 *
 * Queries use Grafana's `$venue` variable, the dashboard's own variables and
 * `$__rate_interval`; nothing else.
 */
import { quantile, rate, stat, ts, V, v, type DashboardSpec } from "./dashboard-spec.ts";
import { FIX_GATEWAY } from "./panels-fix-gateway.ts";
import { STRATEGIES } from "./panels-strategies.ts";

export const DASHBOARDS: readonly DashboardSpec[] = [
  {
    uid: "tradeplane-venue",
    title: "Tradeplane / Venue overview",
    description: "Orders, trades, acknowledgement latency and book depth of a venue.",
    venueFrom: "tp_engine_role",
    rows: [
      {
        title: "Flow",
        panels: [
          ts(
            "Orders per second by outcome",
            "Order requests at the risk gateway (new, replace, cancel, mass cancel; unary and Session), by outcome.",
            "ops",
            { expr: `sum by (outcome) (${rate("tp_risk_orders_total")})`, legend: "{{outcome}}" },
          ),
          ts("Trades per second", "Trades printed, by instrument.", "ops", {
            expr: `sum by (instrument) (${rate("tp_md_trades_total")})`,
            legend: "{{instrument}}",
          }),
          ts("Lots traded per second", "Traded quantity in lots, by instrument.", "short", {
            expr: `sum by (instrument) (${rate("tp_md_traded_lots_total")})`,
            legend: "{{instrument}}",
          }),
        ],
      },
      {
        title: "Latency",
        panels: [
          ts(
            "Order to acknowledgement",
            "From the request's arrival at the gateway to its acknowledgement (the command stored in the log, or the reject).",
            "s",
            { expr: quantile(0.5, "tp_risk_order_ack_seconds", ""), legend: "p50" },
            { expr: quantile(0.99, "tp_risk_order_ack_seconds", ""), legend: "p99" },
            { expr: quantile(0.999, "tp_risk_order_ack_seconds", ""), legend: "p99.9" },
          ),
          ts("Engine apply, p99", "Time to apply one command to the matching core, by partition.", "s", {
            expr: quantile(0.99, "tp_engine_apply_seconds", "partition"),
            legend: "partition {{partition}}",
          }),
        ],
      },
      {
        title: "Books",
        panels: [
          ts("Book depth (best 10 levels)", "Lots shown in the best ten levels, by instrument and side.", "short", {
            expr: `sum by (instrument, side) (tp_md_book_depth_lots${V})`,
            legend: "{{instrument}} {{side}}",
          }),
          ts("Price levels", "Price levels in the book, by instrument and side.", "short", {
            expr: `sum by (instrument, side) (tp_md_book_levels${V})`,
            legend: "{{instrument}} {{side}}",
          }),
        ],
      },
    ],
  },
  {
    uid: "tradeplane-engine",
    title: "Tradeplane / Engine",
    description: "Matching engine partitions: apply latency, command lag, snapshots, role and CPU pinning.",
    venueFrom: "tp_engine_role",
    rows: [
      {
        title: "Work",
        panels: [
          ts("Commands applied per second", "By partition and outcome (ok or rejected).", "ops", {
            expr: `sum by (partition, outcome) (${rate("tp_engine_commands_applied_total")})`,
            legend: "{{partition}} {{outcome}}",
          }),
          ts(
            "Apply latency",
            "Time to apply one command, by partition.",
            "s",
            { expr: quantile(0.5, "tp_engine_apply_seconds", "partition"), legend: "p50 {{partition}}" },
            { expr: quantile(0.99, "tp_engine_apply_seconds", "partition"), legend: "p99 {{partition}}" },
          ),
          ts(
            "Command lag",
            "Command-log entries (each 1 to 1,000 commands) not yet applied, by partition and pod.",
            "short",
            {
              expr: `tp_engine_command_lag${V}`,
              legend: "{{partition}} {{instance}}",
            },
          ),
          ts("Event publish backlog", "Events awaiting acknowledgement (primary) or retained (standby).", "short", {
            expr: `tp_engine_publish_backlog${V}`,
            legend: "{{partition}} {{instance}}",
          }),
          ts("Event loop delay, p99", "The engine's Node.js event-loop delay: queueing for the CPU or GC.", "s", {
            expr: `nodejs_eventloop_lag_p99_seconds${v('service="matching"')}`,
            legend: "{{partition}} {{instance}}",
          }),
        ],
      },
      {
        title: "State",
        panels: [
          stat("Role", "1 = primary, 0 = standby, per engine pod.", "short", {
            expr: `tp_engine_role${V}`,
            legend: "{{partition}} {{instance}}",
          }),
          stat(
            "CPUs allowed",
            "CPUs each engine may run on; equals the requested whole CPUs when the static CPU manager pinned it.",
            "short",
            { expr: `tp_engine_cpus_allowed${V}`, legend: "{{partition}} {{instance}}" },
          ),
          stat("Last command sequence", "Sequence of the last applied command, by partition.", "short", {
            expr: `max by (partition) (tp_engine_last_command_seq${V})`,
            legend: "{{partition}}",
          }),
          ts("Seconds since the last snapshot", "Time since each engine stored or loaded a snapshot.", "s", {
            expr: `time() - tp_engine_last_snapshot_timestamp_seconds${V}`,
            legend: "{{partition}} {{instance}}",
          }),
          ts("Snapshot size", "Bytes of the last snapshot, by partition.", "bytes", {
            expr: `max by (partition) (tp_engine_snapshot_bytes${V})`,
            legend: "{{partition}}",
          }),
        ],
      },
    ],
  },
  {
    uid: "tradeplane-risk",
    title: "Tradeplane / Risk",
    description: "Pre-trade risk: rejects by reason, kill switches, positions, P&L and exposure.",
    venueFrom: "tp_risk_accounts_loaded",
    rows: [
      {
        title: "Checks",
        panels: [
          ts(
            "Rejects per second by reason",
            "Orders refused by the gateway's pre-trade checks or by the engine.",
            "ops",
            {
              expr: `sum by (reason) (${rate("tp_risk_orders_total", 'outcome=~"rejected|invalid"')})`,
              legend: "{{reason}}",
            },
          ),
          ts("Reject ratio", "Refused requests over all requests.", "percentunit", {
            expr: `sum(${rate("tp_risk_orders_total", 'outcome=~"rejected|invalid"')}) / sum(${rate("tp_risk_orders_total")})`,
            legend: "rejected",
          }),
          ts("Pre-trade check time", "Time to run the check chain for one order.", "s", {
            expr: quantile(0.99, "tp_risk_check_seconds", ""),
            legend: "p99",
          }),
          stat("Kill switches engaged", "Engaged kill switches by scope.", "short", {
            expr: `sum by (scope) (tp_risk_kill_switches_engaged${V})`,
            legend: "{{scope}}",
          }),
          stat("Halted instruments", "Listed instruments the engine last announced halted.", "short", {
            expr: `max(tp_risk_instruments_halted${V})`,
            legend: "halted",
          }),
        ],
      },
      {
        title: "Accounts",
        panels: [
          ts("Gross position (lots)", "Sum over instruments of |net position|, per account.", "short", {
            expr: `sum by (account) (tp_risk_position_lots${V})`,
            legend: "{{account}}",
          }),
          ts("Realised P&L", "Per account, in the venue's minor currency units.", "short", {
            expr: `sum by (account) (tp_risk_realised_pnl${V})`,
            legend: "{{account}}",
          }),
          ts("Unrealised P&L", "Per account at the mark price, minor units.", "short", {
            expr: `sum by (account) (tp_risk_unrealised_pnl${V})`,
            legend: "{{account}}",
          }),
          ts("Open exposure", "Gross notional of open orders per account, minor units.", "short", {
            expr: `sum by (account) (tp_risk_open_exposure${V})`,
            legend: "{{account}}",
          }),
          ts("Open orders", "Working orders per account.", "short", {
            expr: `sum by (account) (tp_risk_open_orders${V})`,
            legend: "{{account}}",
          }),
        ],
      },
    ],
  },
  {
    uid: "tradeplane-market-data",
    title: "Tradeplane / Market data",
    description: "Subscribers, fan-out latency, conflation and the event log position of the market-data service.",
    venueFrom: "tp_md_log_position",
    rows: [
      {
        title: "Distribution",
        panels: [
          ts("Subscribers", "Open subscriptions by transport (gRPC, WebSocket).", "short", {
            expr: `sum by (transport) (tp_md_subscribers${V})`,
            legend: "{{transport}}",
          }),
          ts(
            "Event to send",
            "From the engine event's arrival to its update being written to subscribers.",
            "s",
            { expr: quantile(0.5, "tp_md_event_to_send_seconds", ""), legend: "p50" },
            { expr: quantile(0.99, "tp_md_event_to_send_seconds", ""), legend: "p99" },
          ),
          ts("Updates sent per second", "Updates written to subscribers.", "ops", {
            expr: `sum(${rate("tp_md_updates_sent_total")})`,
            legend: "updates",
          }),
          ts("Conflations per second", "Updates merged for subscribers that fell behind.", "ops", {
            expr: `sum(${rate("tp_md_conflations_total")})`,
            legend: "conflated",
          }),
          ts("Slow-consumer disconnects", "Subscribers cut off for falling too far behind.", "short", {
            expr: `sum(increase(tp_md_slow_consumer_disconnects_total${V}[$__rate_interval]))`,
            legend: "disconnects",
          }),
        ],
      },
      {
        title: "Log",
        panels: [
          ts("Events applied per second", "Event-stream messages applied from the log.", "ops", {
            expr: `sum(${rate("tp_md_events_applied_total")})`,
            legend: "events",
          }),
          stat(
            "Book mismatches",
            "Levels where the engine's deltas disagreed with the book built from orders (should be 0).",
            "short",
            {
              expr: `max(tp_md_book_mismatches${V})`,
              legend: "mismatches",
            },
          ),
        ],
      },
    ],
  },
  FIX_GATEWAY,
  {
    uid: "tradeplane-journal",
    title: "Tradeplane / Journal",
    description:
      "The trade journal: rows written, how far behind the event log it is, what it could not use, and the queries it answers.",
    venueFrom: "tp_journal_position",
    rows: [
      {
        title: "Projection",
        panels: [
          ts(
            "Rows written per second",
            "Rows the projector offered per table (a replayed row is not written twice).",
            "ops",
            {
              expr: `sum by (table) (${rate("tp_journal_rows_total")})`,
              legend: "{{table}}",
            },
          ),
          ts("Messages journaled per second", "Event-stream messages committed to the journal.", "ops", {
            expr: `sum(${rate("tp_journal_messages_total")})`,
            legend: "messages",
          }),
          ts(
            "Lag behind the log",
            "Messages stored in the event stream and not yet journaled, and the age of the oldest of them.",
            "short",
            { expr: `max(tp_journal_lag_messages${V})`, legend: "messages" },
            { expr: `max(tp_journal_lag_seconds${V})`, legend: "seconds" },
          ),
        ],
      },
      {
        title: "Errors",
        panels: [
          stat(
            "Dead letters",
            "Messages and events the journal could not use in the interval (see the dead_letters table; should be 0).",
            "short",
            {
              expr: `sum(increase(tp_journal_dead_letters_total${V}[$__rate_interval])) or vector(0)`,
              legend: "dead letters",
            },
          ),
          stat(
            "Failed batches and stalls",
            "Batches rolled back and retried, and event consumers replaced, since the journal started.",
            "short",
            { expr: `max(tp_journal_failures${V})`, legend: "failed batches" },
            { expr: `max(tp_journal_consumer_stalls${V})`, legend: "consumer stalls" },
          ),
        ],
      },
      {
        title: "Queries",
        panels: [
          ts(
            "Queries per second by method",
            "JournalQuery calls (ListTrades, GetOrderAuditTrail, GetOrderToTradeRatio, GetTradeRegister, GetClearingObligations), answered or failed.",
            "ops",
            { expr: `sum by (method) (${rate("tp_journal_queries_total")})`, legend: "{{method}}" },
          ),
          ts(
            "Query time by method",
            "Time of the answered calls of each method, from arrival to answer (failed calls are not timed).",
            "s",
            { expr: quantile(0.5, "tp_journal_query_seconds", "method"), legend: "{{method}} p50" },
            { expr: quantile(0.99, "tp_journal_query_seconds", "method"), legend: "{{method}} p99" },
          ),
          ts(
            "Rows returned per second by method",
            "Rows the answered calls returned: executions (ListTrades), audit events, ratios, register trades, and clearing obligations (securities and funds).",
            "short",
            { expr: `sum by (method) (${rate("tp_journal_query_rows_sum")})`, legend: "{{method}}" },
          ),
          ts(
            "Failed queries per second by code",
            "Calls answered with an error, by method and code: UNAUTHENTICATED and PERMISSION_DENIED (the token), INVALID_ARGUMENT (the request), NOT_FOUND, FAILED_PRECONDITION; INTERNAL is the journal's own failure.",
            "ops",
            {
              expr: `sum by (method, code) (${rate("tp_journal_queries_total", 'code!="OK"')})`,
              legend: "{{method}} {{code}}",
            },
          ),
        ],
      },
    ],
  },
  STRATEGIES,
  {
    uid: "tradeplane-operator",
    title: "Tradeplane / Operator",
    description: "The operator's reconciles, errors, queue and watches.",
    rows: [
      {
        title: "Reconciles",
        panels: [
          {
            ...ts("Reconciles per second by result", "By kind and result.", "ops", {
              expr: "sum by (kind, result) (rate(tp_operator_reconciles_total[$__rate_interval]))",
              legend: "{{kind}} {{result}}",
            }),
            dataOnlyInCluster: true,
          },
          {
            ...ts("Reconcile duration, p99", "By kind.", "s", {
              expr: "histogram_quantile(0.99, sum by (le, kind) (rate(tp_operator_reconcile_seconds_bucket[$__rate_interval])))",
              legend: "{{kind}}",
            }),
            dataOnlyInCluster: true,
          },
          {
            ...ts("Work queue depth", "Keys waiting to be reconciled.", "short", {
              expr: "sum by (kind) (tp_operator_queue_depth)",
              legend: "{{kind}}",
            }),
            dataOnlyInCluster: true,
          },
          {
            ...ts("Watch restarts", "Informer watches restarted after an error or the watchdog.", "short", {
              expr: "sum by (resource) (increase(tp_operator_watch_restarts_total[$__rate_interval]))",
              legend: "{{resource}}",
            }),
            dataOnlyInCluster: true,
          },
          {
            ...stat("Leader", "1 on the replica that holds the leader lease.", "short", {
              expr: "tp_operator_leader",
              legend: "{{instance}}",
            }),
            dataOnlyInCluster: true,
          },
          {
            ...ts(
              "RiskAdmin channels open",
              "gRPC channels to venues' risk gateways, one per venue with FIX sessions or strategies; closed when the venue is deleted.",
              "short",
              { expr: "sum(tp_operator_risk_admin_channels)", legend: "channels" },
            ),
            dataOnlyInCluster: true,
          },
        ],
      },
    ],
  },
];
