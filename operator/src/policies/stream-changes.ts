import type { StreamSpec } from "@tradeplane/platform";
import type { Problem } from "./venue-conditions.ts";

/**
 * Changes to a venue's streams the operator refuses to make by itself: a different storage
 * type (JetStream cannot change it in place; it means a new stream) and shorter retention
 * of a stream that exists (it would delete history, and the command log is the truth).
 * They are reported as StreamsReady=False; the user changes the spec back or migrates by
 * hand (docs/operator.md). Pure.
 */
export interface ExistingStream {
  readonly name: string;
  readonly storage: "file" | "memory";
  /** Seconds; 0 = forever. */
  readonly maxAgeSeconds: number;
  /** Bytes; 0 = no limit. */
  readonly maxBytes: number;
  /** Sequence of the stream's last message (0 = empty). */
  readonly lastSequence: number;
}

const shorter = (have: number, want: number) => want !== 0 && (have === 0 || want < have);

export function unsafeStreamChanges(
  existing: readonly ExistingStream[],
  desired: readonly StreamSpec[],
): Problem | null {
  const found: string[] = [];
  for (const want of desired) {
    const have = existing.find((e) => e.name === want.name);
    if (have === undefined) continue;
    if (have.storage !== want.storage) found.push(`${want.name}: storage ${have.storage} -> ${want.storage}`);
    if (shorter(have.maxAgeSeconds, want.maxAgeSeconds))
      found.push(`${want.name}: max age ${have.maxAgeSeconds || "forever"} -> ${want.maxAgeSeconds} s`);
    if (shorter(have.maxBytes, want.maxBytes))
      found.push(`${want.name}: max bytes ${have.maxBytes || "unlimited"} -> ${want.maxBytes}`);
  }
  return found.length === 0
    ? null
    : {
        reason: "UnsafeStreamChange",
        message: `refused, it would lose data: ${found.join("; ")}. Restore the spec or migrate the streams by hand`,
      };
}
