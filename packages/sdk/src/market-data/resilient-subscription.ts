import type { SubscribeRequest, SubscribeResponse } from "@tradeplane/contracts";
import { SequenceTracker, type Gap } from "./sequence-tracker.ts";

/** The part of a grpc-js server-stream call the helper uses (ClientReadableStream fits). */
export interface UpdateStream {
  on(event: "data", listener: (u: SubscribeResponse) => void): unknown;
  on(event: "error", listener: (err: Error & { code?: number }) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  cancel(): void;
}

export interface ResilientSubscriptionOptions {
  /** Opens a Subscribe stream, e.g. `(req) => client.subscribe(req)` with a MarketDataClient. */
  readonly open: (request: SubscribeRequest) => UpdateStream;
  readonly request: SubscribeRequest;
  /** Each update, in order, checked: never a duplicate, never after an unrecovered gap. */
  readonly onUpdate: (u: SubscribeResponse) => void;
  /** A gap was seen (the helper resubscribes); `lost` when a resume could not fill it. */
  readonly onGap?: (gap: Gap, lost: boolean) => void;
  /** The stream failed (the helper resubscribes after `retryMs`). */
  readonly onError?: (err: Error & { code?: number }) => void;
  readonly retryMs?: number;
}

/** gRPC codes on which resubscribing cannot help. */
const FATAL = new Set([3 /* INVALID_ARGUMENT */, 7 /* PERMISSION_DENIED */, 16 /* UNAUTHENTICATED */]);

/**
 * A Subscribe that survives gaps and restarts: it tracks each channel's sequence, and on a
 * gap (or when the stream ends or fails, e.g. a server restart or RESOURCE_EXHAUSTED for a
 * slow reader) it resubscribes with from_sequence = the last source_sequence processed, so
 * the server replays what followed or starts from fresh snapshots. Reused by the SDK.
 */
export class ResilientSubscription {
  readonly tracker = new SequenceTracker();
  private readonly options: ResilientSubscriptionOptions;
  private stream: UpdateStream | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  /** Number of times the helper opened a stream again (after a gap, an end or an error). */
  resubscribes = 0;
  gaps = 0;

  constructor(options: ResilientSubscriptionOptions) {
    this.options = options;
  }

  start(): void {
    this.open(false);
  }

  stop(): void {
    this.stopped = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.stream?.cancel();
    this.stream = undefined;
  }

  /** Ends the current stream and opens a new one from the last source sequence. */
  resubscribe(): void {
    if (this.stopped) return;
    const old = this.stream;
    this.stream = undefined;
    old?.cancel();
    this.resubscribes++;
    this.open(true);
  }

  private open(resume: boolean): void {
    const from = resume ? this.tracker.resumeFrom : this.options.request.fromSequence;
    if (resume) this.tracker.markResume();
    const stream = this.options.open({ ...this.options.request, fromSequence: from });
    this.stream = stream;
    const current = (): boolean => this.stream === stream && !this.stopped;
    stream.on("data", (u) => {
      if (!current()) return;
      const verdict = this.tracker.observe(u);
      if (verdict === "duplicate") return;
      if (verdict === "gap") {
        this.gaps++;
        this.options.onGap?.(this.tracker.lastGap!, false);
        this.resubscribe();
        return;
      }
      if (verdict === "lost") this.options.onGap?.(this.tracker.lastGap!, true);
      this.options.onUpdate(u);
    });
    const again = (err?: Error & { code?: number }): void => {
      if (!current()) return;
      this.stream = undefined;
      if (err !== undefined) this.options.onError?.(err);
      if (err?.code !== undefined && FATAL.has(err.code)) return;
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (this.stopped) return;
        this.resubscribes++;
        this.open(true);
      }, this.options.retryMs ?? 250);
    };
    stream.on("error", (err) => again(err));
    stream.on("end", () => again());
  }
}
