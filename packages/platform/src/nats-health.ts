import type { NatsConnection } from "@nats-io/transport-node";
import type { Health } from "./health.ts";
import type { Logger } from "./logger.ts";

/** A reader of a stream whose readiness depends on the connection: ok once back at the stream's end. */
export interface FollowerCheck {
  /** The Health check it drives (e.g. "events"). */
  readonly check: string;
  /** Resolves once the follower has handled every message the stream holds now; may reject while JetStream recovers. */
  readonly reachedEnd: () => Promise<void>;
}

export interface NatsHealthDeps {
  readonly nc: NatsConnection;
  readonly health: Health;
  readonly logger: Logger;
  /** The check of the connection itself; default "nats". */
  readonly check?: string;
  readonly followers?: readonly FollowerCheck[];
}

const RECOVERY_RETRY_MS = 250;

/**
 * Keeps readiness true to the NATS connection: the connection's check is ok now and goes
 * down on every disconnect, and each follower's check with it; after a reconnect the
 * connection's check is ok again at once, and each follower's once it has caught up with its
 * stream (a follower that answers from before the outage is not ready). Until then /readyz
 * and gRPC health say NOT_SERVING. Call it right after connecting.
 */
export function watchNatsHealth(deps: NatsHealthDeps): void {
  const { nc, health, logger } = deps;
  const check = deps.check ?? "nats";
  const followers = deps.followers ?? [];
  health.set(check, "ok");
  /** Bumped on every status change, so a recovery that an outage overtook does not report ok. */
  let epoch = 0;

  const recover = async (follower: FollowerCheck, at: number): Promise<void> => {
    health.set(follower.check, "starting", "catching up after a NATS reconnect");
    while (at === epoch) {
      try {
        await follower.reachedEnd();
        if (at === epoch) health.set(follower.check, "ok");
        return;
      } catch (err) {
        logger.debug({ check: follower.check, err: (err as Error).message }, "not caught up yet");
        await new Promise((r) => setTimeout(r, RECOVERY_RETRY_MS));
      }
    }
  };

  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        epoch++;
        health.set(check, "down", "NATS disconnected");
        for (const f of followers) health.set(f.check, "down", "NATS disconnected");
      } else if (s.type === "reconnect") {
        const at = ++epoch;
        health.set(check, "ok");
        for (const f of followers) void recover(f, at);
      }
    }
  })();
}
