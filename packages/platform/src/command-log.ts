import { headers as natsHeaders } from "@nats-io/transport-node";
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import { Command, commandSubject } from "@tradeplane/contracts";
import { injectTraceHeaders } from "./telemetry.ts";
import { UnavailableError } from "./errors.ts";

/**
 * Writes commands into a venue's command log. The stream sequence JetStream assigns is
 * the command's identity (and a new order's venue order id). The active trace context
 * goes into the message headers so the engine's span joins the writer's trace.
 */
export interface CommandLogWriter {
  append(partition: number, command: Command, options?: { msgId?: string }): Promise<PubAck>;
}

const DEFAULT_APPEND_TIMEOUT_MS = 5_000;

export function commandLogWriter(
  js: JetStreamClient,
  venue: string,
  timeoutMs = DEFAULT_APPEND_TIMEOUT_MS,
): CommandLogWriter {
  return {
    async append(partition, command, options = {}) {
      const h = natsHeaders();
      injectTraceHeaders(h);
      try {
        return await js.publish(commandSubject(venue, partition), Command.encode(command).finish(), {
          headers: h,
          timeout: timeoutMs,
          ...(options.msgId !== undefined ? { msgID: options.msgId } : {}),
        });
      } catch (err) {
        throw new UnavailableError(`command log of ${venue} did not store the command: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
  };
}

/** A Timestamp for a wall-clock time in milliseconds (the writer's clock stamps commands). */
export function timestampOfMs(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
