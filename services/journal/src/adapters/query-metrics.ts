import { lastStoredIn } from "@tradeplane/platform";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { eventStreamName } from "@tradeplane/contracts";
import type { QueryCall } from "./journal-query-grpc.ts";

/**
 * JournalQuery calls by method and outcome ("OK" or the error's code), and of the answered
 * ones their time and the rows they returned, by method (the method names are the service's
 * five: a fixed set).
 */
export function queryMetrics(registry: Registry) {
  const calls = new Counter({
    name: "tp_journal_queries_total",
    help: "JournalQuery calls by method and outcome (OK or the error code)",
    labelNames: ["method", "code"],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: "tp_journal_query_seconds",
    help: "Time of an answered JournalQuery call, from its arrival to its answer, by method",
    labelNames: ["method"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const rows = new Histogram({
    name: "tp_journal_query_rows",
    help: "Rows an answered JournalQuery call returned, by method",
    labelNames: ["method"],
    buckets: [0, 1, 10, 100, 1_000, 10_000, 100_000],
    registers: [registry],
  });
  return {
    called(call: QueryCall): void {
      calls.inc({ method: call.method, code: call.code });
      if (call.code !== "OK") return;
      seconds.observe({ method: call.method }, call.seconds);
      rows.observe({ method: call.method }, call.rows);
    },
  };
}

/**
 * How far behind the log the journal is in time: the age of the oldest event-stream message
 * not yet journaled (the one after the committed position), read from JetStream when
 * scraped; 0 when the journal has everything.
 */
export function lagSecondsGauge(
  registry: Registry,
  position: () => number,
  jsm: JetStreamManager,
  venue: string,
  now: () => number = Date.now,
): Gauge {
  return new Gauge({
    name: "tp_journal_lag_seconds",
    help: "Age of the oldest event-stream message not yet in the journal, in seconds (0 when caught up)",
    registers: [registry],
    async collect() {
      const stream = eventStreamName(venue);
      try {
        const info = await jsm.streams.info(stream, { deleted_details: true });
        if (lastStoredIn(info.state) <= position()) {
          this.set(0);
          return;
        }
        // The next message may have been removed by the stream's age limit: the first one kept.
        const seq = Math.max(position() + 1, info.state.first_seq);
        const next = await jsm.streams.getMessage(stream, { seq });
        if (next !== null) this.set(Math.max(0, (now() - next.time.getTime()) / 1000));
      } catch {
        // Stream unreachable: keep the last value rather than claim the journal caught up.
      }
    },
  });
}
