/**
 * The FIX gateway's dashboard: sessions, messages by MsgType, rejects, recovery, flow control
 * and D-to-8 latency, per venue and FIX session (`$session`: a session's configured id).
 * Why connections end and why BusinessMessageRejects were sent are counted as fixed codes;
 * the words (Logout Text, 58) are only in the gateway's log.
 */
import { quantile, stat, ts, V, type DashboardSpec } from "./dashboard-spec.ts";

/** The chosen venues and sessions, with further matchers. */
const s = (matchers = "") => `{venue=~"$venue",session=~"$session"${matchers === "" ? "" : `,${matchers}`}}`;
/** The chosen sessions, for the quantile helper's matchers (it adds the venue). */
const SESSIONS = 'session=~"$session"';
const rate = (metric: string, matchers = "") => `rate(${metric}${s(matchers)}[$__rate_interval])`;
const messages = (direction: "in" | "out", msgTypes: string) =>
  rate("tp_fix_messages_total", `direction="${direction}",msg_type=~"${msgTypes}"`);

export const FIX_GATEWAY: DashboardSpec = {
  uid: "tradeplane-fix-gateway",
  title: "Tradeplane / FIX gateway",
  description: "FIX 4.4 sessions of a venue: logons, messages by MsgType, rejects, resends, flow control, D-to-8.",
  venueFrom: "tp_fix_sessions_paused",
  variables: [{ name: "session", label: "Session", from: "tp_fix_sessions_logged_on" }],
  rows: [
    {
      title: "Sessions",
      panels: [
        stat(
          "Sessions logged on",
          "Sessions logged on now, of those that have logged on since the gateway started.",
          "short",
          {
            expr: `sum(tp_fix_sessions_logged_on${s()})`,
            legend: "logged on",
          },
        ),
        ts("Logged on, by session", "1 from the session's Logon, 0 once its connection ends.", "short", {
          expr: `max by (session) (tp_fix_sessions_logged_on${s()})`,
          legend: "{{session}}",
        }),
        ts(
          "Session drops",
          "Times a session went from logged on to off, as scraped (a reconnect within one scrape is not seen). Why: Connections ended by reason.",
          "short",
          {
            expr: `sum by (session) (resets(tp_fix_sessions_logged_on${s()}[$__rate_interval]))`,
            legend: "{{session}}",
          },
        ),
        ts(
          "Connections ended by reason",
          'FIX connections ended, by session ("unknown" before a Logon named one) and reason: client_logout, heartbeat_timeout, logon_timeout, logon_refused, seq_too_low, invalid_message, sending_time, server_stop, unknown_session, bad_credentials, duplicate_session, store_failure, socket_error, socket_closed (no Logout). The words are in the gateway\'s log ("FIX session ending").',
          "short",
          {
            expr: `sum by (session, reason) (increase(tp_fix_session_ends_total${s()}[$__rate_interval]))`,
            legend: "{{session}} {{reason}}",
          },
        ),
        ts(
          "Logouts per second",
          "Logout (35=5) received (in: the client's, or its answer to the gateway's) and sent (out: an answer, a refusal, a timeout or shutdown). Why: Connections ended by reason.",
          "ops",
          {
            expr: `sum by (session, direction) (${rate("tp_fix_messages_total", 'msg_type="5"')})`,
            legend: "{{session}} {{direction}}",
          },
        ),
      ],
    },
    {
      title: "Messages",
      panels: [
        ts("Messages received per second by MsgType", "FIX messages from clients, by MsgType (tag 35).", "ops", {
          expr: `sum by (msg_type) (${rate("tp_fix_messages_total", 'direction="in"')})`,
          legend: "{{msg_type}}",
        }),
        ts(
          "Messages sent per second by MsgType",
          "FIX messages to clients, resends included, by MsgType (tag 35).",
          "ops",
          {
            expr: `sum by (msg_type) (${rate("tp_fix_messages_total", 'direction="out"')})`,
            legend: "{{msg_type}}",
          },
        ),
        ts(
          "D to 8",
          "From a NewOrderSingle's arrival to the first ExecutionReport for its ClOrdID, over the chosen sessions. Orders the gateway refuses itself are not timed.",
          "s",
          { expr: quantile(0.5, "tp_fix_new_order_ack_seconds", "", SESSIONS), legend: "p50" },
          { expr: quantile(0.99, "tp_fix_new_order_ack_seconds", "", SESSIONS), legend: "p99" },
        ),
        ts(
          "D to 8 by session, p99",
          "The 99th percentile of D-to-8 of each session: a slow session next to fast ones points at its client or its account, not the venue.",
          "s",
          { expr: quantile(0.99, "tp_fix_new_order_ack_seconds", "session", SESSIONS), legend: "{{session}}" },
        ),
      ],
    },
    {
      title: "Rejects",
      panels: [
        ts(
          "Session rejects per second by reason",
          "Session-level Rejects (35=3) sent, by SessionRejectReason (373): 0 invalid tag, 1 required tag missing, 4 tag without value, 5 value incorrect, 9 CompID problem, 10 SendingTime accuracy, 11 invalid MsgType, 14 tag out of order, 99 other (throttled, or too many fields).",
          "ops",
          { expr: `sum by (reason) (${rate("tp_fix_session_rejects_total")})`, legend: "373={{reason}}" },
        ),
        ts(
          "Business rejects per second",
          "BusinessMessageReject (j) sent, by BusinessRejectReason (380): 3 unsupported message type, 4 OrderEntry unavailable (the outcome is unknown), 6 not authorised; and OrderCancelReject (9) sent (its CxlRejReason, 102, is not counted). Orders the venue refuses are ExecutionReports (150=8): see Risk: Rejects per second by reason.",
          "ops",
          {
            expr: `sum by (session, reason) (${rate("tp_fix_business_rejects_total")})`,
            legend: "{{session}} j 380={{reason}}",
          },
          { expr: `sum by (session) (${messages("out", "9")})`, legend: "{{session}} 9" },
        ),
        ts(
          "Throttled messages per second",
          "Application messages over the session's maxMessagesPerSecond, refused with Reject 373=99 (the gateway's only other 373=99 is a message of too many fields).",
          "ops",
          { expr: `sum by (session) (${rate("tp_fix_session_rejects_total", 'reason="99"')})`, legend: "{{session}}" },
        ),
        ts(
          "Garbled byte runs",
          'Bytes dropped for a bad BodyLength, CheckSum or framing (session "unknown" before a Logon).',
          "short",
          {
            expr: `sum by (session) (increase(tp_fix_garbled_total${s()}[$__rate_interval]))`,
            legend: "{{session}}",
          },
        ),
      ],
    },
    {
      title: "Recovery and flow control",
      panels: [
        ts(
          "Resend requests and gap fills",
          "ResendRequests (35=2) from clients that the gateway served, and the SequenceReset-GapFills (35=4) it sent in its resends, in place of administrative messages.",
          "ops",
          { expr: `sum by (session) (${rate("tp_fix_resend_requests_total")})`, legend: "{{session}} resend requests" },
          { expr: `sum by (session) (${messages("out", "4")})`, legend: "{{session}} gap fills" },
        ),
        ts(
          "OrderEntry requests in flight",
          "Order requests of the session sent to the risk gateway and not yet answered; at sessionMaxInFlight the session is paused.",
          "short",
          { expr: `sum by (session) (tp_fix_order_entry_in_flight${s()})`, legend: "{{session}}" },
        ),
        ts(
          "Sessions paused by flow control",
          "Sessions whose application messages are held because an in-flight bound was reached (over every session of the venue).",
          "short",
          { expr: `max(tp_fix_sessions_paused${V})`, legend: "paused" },
        ),
      ],
    },
  ],
};
