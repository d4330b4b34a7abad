import { lastStoredSeq } from "@tradeplane/platform";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Counter, Gauge, type Registry } from "prom-client";
import { eventStreamName } from "@tradeplane/contracts";
import type { JournalWrites } from "../domain/rows.ts";
import type { EventProjector } from "./event-projector.ts";

/** The projector's metrics: what it wrote, what it refused, and how far behind the stream it is. */
export function projectorMetrics(registry: Registry) {
  const messages = new Counter({
    name: "tp_journal_messages_total",
    help: "Event-stream messages written to the journal",
    registers: [registry],
  });
  const rows = new Counter({
    name: "tp_journal_rows_total",
    help: "Rows the projector offered per table (rows already there are not written twice)",
    labelNames: ["table"],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: "tp_journal_dead_letters_total",
    help: "Messages and events the projector could not use, by reason (see the dead_letters table)",
    labelNames: ["reason"],
    registers: [registry],
  });
  return {
    committed(writes: JournalWrites, count: number): void {
      messages.inc(count);
      rows.inc({ table: "order_events" }, writes.orderEvents.length);
      rows.inc({ table: "trades" }, writes.trades.length);
      rows.inc({ table: "executions" }, writes.executions.length);
      rows.inc({ table: "orders" }, writes.orders.length);
      for (const d of writes.deadLetters) deadLetters.inc({ reason: d.reason });
    },
    /** Position and lag gauges, read when scraped. */
    follow(projector: EventProjector, jsm: JetStreamManager, venue: string): void {
      new Gauge({
        name: "tp_journal_position",
        help: "Event-stream sequence of the last message committed to the journal",
        registers: [registry],
        collect() {
          this.set(projector.position);
        },
      });
      new Gauge({
        name: "tp_journal_lag_messages",
        help: "Event-stream messages stored and not yet in the journal",
        registers: [registry],
        async collect() {
          const last = await lastStoredSeq(jsm, eventStreamName(venue)).catch(() => undefined);
          if (last !== undefined) this.set(Math.max(0, last - projector.position));
        },
      });
      new Gauge({
        name: "tp_journal_failures",
        help: "Batches that failed and were retried from the stored position since start",
        registers: [registry],
        collect() {
          this.set(projector.failures);
        },
      });
      new Gauge({
        name: "tp_journal_consumer_stalls",
        help: "Event consumers replaced since start because they stopped delivering while the stream grew",
        registers: [registry],
        collect() {
          this.set(projector.stalls);
        },
      });
    },
  };
}
