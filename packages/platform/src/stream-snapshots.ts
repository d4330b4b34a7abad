import type { BlobStore } from "./blob-store.ts";
import type { Logger } from "./logger.ts";

/**
 * Snapshots of a state built from a JetStream stream (a projection, a market-data state),
 * kept in a BlobStore such as the venue's snapshots bucket, so a restarted or late reader
 * loads the newest one and follows the stream from the message after it instead of
 * replaying the stream from its start.
 *
 * One blob per snapshot, named `<prefix><stream sequence, 16 digits>` so names sort by
 * sequence; after each write only the newest `keep` of the prefix are kept. The format of
 * a blob is the caller's: this module names, lists, chooses and prunes. States built from
 * a stream are deterministic, so any replica may load any other replica's snapshot.
 */
export interface StreamSnapshotsOptions {
  readonly store: BlobStore;
  /** Start of every name, e.g. "risk-", "md-"; names that do not continue with 16 digits are ignored. */
  readonly prefix: string;
  /** Snapshots kept (newest first); older ones are deleted after each write. */
  readonly keep: number;
  readonly logger: Logger;
  /** What the snapshots hold, for log lines ("projection", "market-data state"). */
  readonly what: string;
}

/** A stored snapshot: its name and the stream sequence of the last message it reflects. */
export interface SnapshotEntry {
  readonly name: string;
  readonly streamSeq: number;
}

/** A snapshot that was passed over at load, and why. */
export interface SkippedSnapshot extends SnapshotEntry {
  readonly reason: string;
}

export interface LoadedSnapshot<T> extends SnapshotEntry {
  /** What `decode` made of it. */
  readonly value: T;
  /** Its size in bytes. */
  readonly bytes: number;
}

export interface LoadResult<T> {
  /** The newest snapshot that decoded, or undefined: replay the stream from its start. */
  readonly loaded: LoadedSnapshot<T> | undefined;
  /** Newer snapshots passed over, newest first. */
  readonly skipped: readonly SkippedSnapshot[];
}

export interface SavedSnapshot extends SnapshotEntry {
  readonly bytes: number;
}

const SEQ_DIGITS = 16;

/** `<prefix><stream sequence, zero-padded to 16 digits>`: names that sort by sequence. */
export function streamSnapshotName(prefix: string, streamSeq: number): string {
  return `${prefix}${String(streamSeq).padStart(SEQ_DIGITS, "0")}`;
}

export class StreamSnapshots {
  private readonly options: StreamSnapshotsOptions;
  /** Stream sequence of the newest snapshot written or loaded by this process (0 = none). */
  lastSeq = 0;

  constructor(options: StreamSnapshotsOptions) {
    this.options = options;
  }

  get prefix(): string {
    return this.options.prefix;
  }

  /** The name of the snapshot at `streamSeq`. */
  nameOf(streamSeq: number): string {
    return streamSnapshotName(this.options.prefix, streamSeq);
  }

  /** The stream sequence a name stands for, or undefined if it is not one of these snapshots' names. */
  seqOf(name: string): number | undefined {
    if (!name.startsWith(this.options.prefix)) return undefined;
    const digits = name.slice(this.options.prefix.length);
    return digits.length === SEQ_DIGITS && /^\d+$/.test(digits) ? Number(digits) : undefined;
  }

  /** The stored snapshots, newest first. */
  async list(): Promise<SnapshotEntry[]> {
    const names = await this.options.store.list(this.options.prefix);
    return names
      .flatMap((name) => {
        const streamSeq = this.seqOf(name);
        return streamSeq === undefined ? [] : [{ name, streamSeq }];
      })
      .sort((a, b) => b.streamSeq - a.streamSeq);
  }

  /**
   * The newest snapshot that is not past the stream's last message `lastStreamSeq` and that
   * `decode` accepts (it throws to refuse one: corrupt, another format, another stream).
   * Each one passed over is logged and reported; none at all means a replay from the start.
   */
  async load<T>(lastStreamSeq: number, decode: (bytes: Uint8Array, entry: SnapshotEntry) => T): Promise<LoadResult<T>> {
    const skipped: SkippedSnapshot[] = [];
    for (const entry of await this.list()) {
      try {
        if (entry.streamSeq > lastStreamSeq) throw new Error(`it is past the stream's last message ${lastStreamSeq}`);
        const bytes = await this.options.store.get(entry.name);
        if (bytes === null) continue; // deleted meanwhile (another replica pruned it)
        const value = decode(bytes, entry);
        this.lastSeq = entry.streamSeq;
        return { loaded: { ...entry, value, bytes: bytes.length }, skipped };
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        skipped.push({ ...entry, reason });
        this.options.logger.error(
          { snapshot: entry.name, streamSeq: entry.streamSeq, err: reason },
          `${this.options.what} snapshot skipped`,
        );
      }
    }
    return { loaded: undefined, skipped };
  }

  /**
   * Writes the snapshot at `streamSeq` that `encode` takes (called at once, synchronously,
   * so it is consistent) and deletes the oldest beyond `keep`. Does nothing and returns
   * undefined if one at this sequence or a later one was written or loaded already.
   */
  async save(streamSeq: number, encode: () => Uint8Array | readonly Uint8Array[]): Promise<SavedSnapshot | undefined> {
    if (streamSeq <= this.lastSeq) return undefined;
    const encoded = encode();
    const size = encoded instanceof Uint8Array ? encoded.length : sumOfLengths(encoded);
    const name = this.nameOf(streamSeq);
    await this.options.store.put(name, encoded);
    this.lastSeq = streamSeq;
    for (const old of (await this.list()).slice(this.options.keep)) {
      // Another replica may have deleted it already.
      await this.options.store.delete(old.name).catch(() => undefined);
    }
    this.options.logger.info({ snapshot: name, streamSeq, bytes: size }, `${this.options.what} snapshot written`);
    return { name, streamSeq, bytes: size };
  }
}

function sumOfLengths(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}
