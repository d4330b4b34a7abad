import { lastStoredIn } from "@tradeplane/platform";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Counter, Gauge, type Registry } from "prom-client";
import { eventStreamName } from "@tradeplane/contracts";

/** JournalQuery calls by method and outcome ("OK" or the error's code). */
export function queryMetrics(registry: Registry) {
  const calls = new Counter({
    name: "tp_journal_queries_total",
    help: "JournalQuery calls by method and outcome (OK or the error code)",
    labelNames: ["method", "code"],
    registers: [registry],
  });
  return {
    called(method: string, code: string): void {
      calls.inc({ method, code });
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
