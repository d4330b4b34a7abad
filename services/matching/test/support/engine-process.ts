import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ServiceProcess } from "@tradeplane/testkit";

const MAIN = resolve(fileURLToPath(new URL("../../src/main.ts", import.meta.url)));

export interface EngineProcessOptions {
  readonly natsUrl: string | readonly string[];
  readonly venue: string;
  readonly partition?: number;
  readonly instanceId: string;
  readonly instruments: readonly object[];
  readonly env?: Record<string, string>;
}

/** The engine service as a real child process (so tests can SIGKILL it). */
export class EngineProcess extends ServiceProcess {
  constructor(o: EngineProcessOptions) {
    super({
      main: MAIN,
      config: { instruments: o.instruments },
      env: {
        TP_NATS_URL: typeof o.natsUrl === "string" ? o.natsUrl : o.natsUrl.join(","),
        TP_VENUE: o.venue,
        TP_PARTITION: String(o.partition ?? 0),
        TP_INSTANCE_ID: o.instanceId,
        TP_LOG_LEVEL: "info",
        ...o.env,
      },
    });
  }

  async waitForSeq(seq: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`engine exited while waiting for ${seq}:\n${this.log}`);
      let status: { lastCommandSeq: number };
      try {
        status = await this.ops<{ lastCommandSeq: number }>("/status");
      } catch (err) {
        throw new Error(`engine ops endpoint failed (${(err as Error).message}):\n${this.log}`);
      }
      if (status.lastCommandSeq >= seq) return;
      if (Date.now() > deadline)
        throw new Error(
          `engine stuck at ${status.lastCommandSeq}, wanted ${seq}; status ${JSON.stringify(status)}\n${this.log}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Waits until the engine's published mark (`/status` `published`) reaches `mark`: the event
   * stream holds this partition's events up to that one with none missing before, so a read of
   * the stream sees them all. Waiting for the applied sequence is not enough: publishing is
   * pipelined, and a restarted engine publishes its replayed commands' events after applying them.
   */
  async waitForMark(mark: { readonly cmdSeq: number; readonly index: number }, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`engine exited while waiting for ${mark.cmdSeq}-${mark.index}:\n${this.log}`);
      const status = await this.ops<{ published: { cmdSeq: number; index: number } }>("/status");
      const p = status.published;
      if (p.cmdSeq > mark.cmdSeq || (p.cmdSeq === mark.cmdSeq && p.index >= mark.index)) return;
      if (Date.now() > deadline)
        throw new Error(
          `engine published up to ${p.cmdSeq}-${p.index}, wanted ${mark.cmdSeq}-${mark.index}; status ${JSON.stringify(status)}\n${this.log}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Waits until the engine applied `seq` and every event it produced is acknowledged by the
   * stream: the event stream's end is final for the commands so far (publishing is pipelined,
   * so applied is not yet stored).
   */
  async waitForPublished(seq: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.waitForSeq(seq, timeoutMs);
    for (;;) {
      const { publishBacklog } = await this.ops<{ publishBacklog: number }>("/status");
      if (publishBacklog === 0) return;
      if (Date.now() > deadline) throw new Error(`engine still has ${publishBacklog} events to publish:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
