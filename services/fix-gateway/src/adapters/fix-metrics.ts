import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { AcceptorMetrics } from "./fix-acceptor.ts";
import type { FlowControl } from "../domain/flow-control.ts";
import type { SessionEnd } from "../domain/session.ts";

/**
 * The gateway's Prometheus metrics: sessions and why they ended, messages by type and
 * direction, session and business rejects, resends, D-to-8 latency per session. Every label
 * value is a configured session id or a code from a fixed set, never text from a client.
 */
export class FixMetrics implements AcceptorMetrics {
  private readonly sessions: Gauge;
  private readonly messages: Counter;
  private readonly rejects: Counter;
  private readonly resends: Counter;
  private readonly garbage: Counter;
  private readonly ends: Counter;
  private readonly businessRejects: Counter;
  readonly ackLatency: Histogram;
  private readonly registry: Registry;

  constructor(registry: Registry) {
    this.registry = registry;
    this.sessions = new Gauge({
      name: "tp_fix_sessions_logged_on",
      help: "FIX sessions logged on (1) or not (0)",
      labelNames: ["session"],
      registers: [registry],
    });
    this.messages = new Counter({
      name: "tp_fix_messages_total",
      help: "FIX messages by session, direction (in/out) and MsgType",
      labelNames: ["session", "direction", "msg_type"],
      registers: [registry],
    });
    this.rejects = new Counter({
      name: "tp_fix_session_rejects_total",
      help: "Session-level Rejects (35=3) sent, by SessionRejectReason",
      labelNames: ["session", "reason"],
      registers: [registry],
    });
    this.resends = new Counter({
      name: "tp_fix_resend_requests_total",
      help: "ResendRequests served",
      labelNames: ["session"],
      registers: [registry],
    });
    this.garbage = new Counter({
      name: "tp_fix_garbled_total",
      help: "Garbled byte runs dropped (bad BodyLength, CheckSum or framing)",
      labelNames: ["session"],
      registers: [registry],
    });
    this.ends = new Counter({
      name: "tp_fix_session_ends_total",
      help: "FIX connections ended, by session and reason (a fixed set of codes)",
      labelNames: ["session", "reason"],
      registers: [registry],
    });
    this.businessRejects = new Counter({
      name: "tp_fix_business_rejects_total",
      help: "BusinessMessageRejects (35=j) sent, by BusinessRejectReason (380)",
      labelNames: ["session", "reason"],
      registers: [registry],
    });
    this.ackLatency = new Histogram({
      name: "tp_fix_new_order_ack_seconds",
      help: "From a NewOrderSingle's arrival to its first ExecutionReport (D-to-8), by session",
      labelNames: ["session"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
  }

  /** Gauges of the flow control's counts, read at each scrape. */
  watchFlow(flow: FlowControl): void {
    new Gauge({
      name: "tp_fix_order_entry_in_flight",
      help: "OrderEntry requests in flight, by FIX session",
      labelNames: ["session"],
      registers: [this.registry],
      collect() {
        for (const [session, n] of flow.perSession()) this.set({ session }, n);
      },
    });
    new Gauge({
      name: "tp_fix_sessions_paused",
      help: "FIX sessions whose socket is not read now: an OrderEntry in-flight bound was reached (flow control)",
      registers: [this.registry],
      collect() {
        this.set(flow.pausedSessions);
      },
    });
  }

  sessionUp(id: string): void {
    this.sessions.set({ session: id }, 1);
  }
  sessionDown(id: string): void {
    this.sessions.set({ session: id }, 0);
  }
  received(id: string, msgType: string): void {
    this.messages.inc({ session: id, direction: "in", msg_type: msgType.slice(0, 2) });
  }
  sent(id: string, msgType: string): void {
    this.messages.inc({ session: id, direction: "out", msg_type: msgType.slice(0, 2) });
  }
  rejected(id: string, reason: number): void {
    this.rejects.inc({ session: id, reason: String(reason) });
  }
  resendRequested(id: string): void {
    this.resends.inc({ session: id });
  }
  garbled(id: string): void {
    this.garbage.inc({ session: id });
  }
  sessionEnded(id: string, end: SessionEnd): void {
    this.ends.inc({ session: id, reason: end });
  }
  businessRejected(id: string, reason: number): void {
    this.businessRejects.inc({ session: id, reason: String(reason) });
  }
  acknowledged(id: string, ms: number): void {
    this.ackLatency.observe({ session: id }, ms / 1000);
  }
}
