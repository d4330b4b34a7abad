import { runInSteps, StreamSnapshots, streamSnapshotName, type BlobStore, type Logger } from "@tradeplane/platform";
import { OrderProjection, type InstrumentTerms, type ProjectionSnapshot } from "@tradeplane/positions/order-projection";

/**
 * Snapshots of the order projection in the venue's snapshots object store, so a restarted
 * gateway loads the newest one and follows the event stream from the event after it,
 * instead of replaying the stream from its start. One object per snapshot, named
 * `risk-<event stream sequence, zero-padded>` so names sort by sequence; the newest `keep`
 * are kept (naming, choosing and pruning: platform's StreamSnapshots). The projection is
 * deterministic, so every replica's snapshot at a sequence is the same and any replica may
 * load any other's.
 *
 * A snapshot records the event stream's creation time: one taken of a stream that has
 * since been deleted and created again (sequences start over) is never loaded.
 */
export interface StoredProjection {
  readonly format: "tradeplane.risk.projection";
  /** Event stream sequence of the last event the projection holds. */
  readonly streamSeq: number;
  /** The event stream's creation time (ISO), to tell a re-created stream apart. */
  readonly streamCreated: string;
  readonly projection: ProjectionSnapshot;
}

export interface LoadedProjection {
  readonly projection: OrderProjection;
  readonly streamSeq: number;
  readonly name: string;
}

export const SNAPSHOT_PREFIX = "risk-";

export function snapshotName(streamSeq: number): string {
  return streamSnapshotName(SNAPSHOT_PREFIX, streamSeq);
}

export interface ProjectionSnapshotsDeps {
  readonly store: BlobStore;
  /** Snapshots kept (newest first); older ones are deleted after each write. */
  readonly keep: number;
  /** Reports kept per account in a snapshot (older ones: clients reconcile with ListOpenOrders). */
  readonly reportsKept: number;
  readonly logger: Logger;
}

export class ProjectionSnapshots {
  private readonly deps: ProjectionSnapshotsDeps;
  private readonly snapshots: StreamSnapshots;

  constructor(deps: ProjectionSnapshotsDeps) {
    this.deps = deps;
    this.snapshots = new StreamSnapshots({
      store: deps.store,
      prefix: SNAPSHOT_PREFIX,
      keep: deps.keep,
      logger: deps.logger,
      what: "projection",
    });
  }

  /** Stream sequence of the newest snapshot written or loaded by this process. */
  get lastSeq(): number {
    return this.snapshots.lastSeq;
  }

  /** Names of the stored snapshots, newest first. */
  async list(): Promise<{ name: string; streamSeq: number }[]> {
    return this.snapshots.list();
  }

  /**
   * The newest snapshot that loads and fits the stream as it is now, or undefined (replay
   * from the start). A snapshot that does not load is logged and skipped for an older one.
   */
  async load(
    terms: (instrument: string) => InstrumentTerms | undefined,
    stream: { readonly created: string; readonly lastSeq: number },
  ): Promise<LoadedProjection | undefined> {
    const { loaded } = await this.snapshots.load(stream.lastSeq, (bytes, { streamSeq }) => {
      const stored = JSON.parse(Buffer.from(bytes).toString("utf8")) as Partial<StoredProjection>;
      if (stored.format !== "tradeplane.risk.projection") throw new Error("not a projection snapshot");
      if (stored.streamSeq !== streamSeq) throw new Error(`it says sequence ${String(stored.streamSeq)}`);
      if (stored.streamCreated !== stream.created)
        throw new Error(`it was taken of an event stream created ${String(stored.streamCreated)}`);
      return OrderProjection.restore(stored.projection, terms);
    });
    return loaded === undefined
      ? undefined
      : { projection: loaded.value, streamSeq: loaded.streamSeq, name: loaded.name };
  }

  /**
   * Writes a snapshot of the projection at `streamSeq` and deletes the oldest beyond `keep`.
   * Does nothing if one at this sequence was written or loaded already. The state is taken
   * now, synchronously, so it is consistent with `streamSeq`; it is encoded in steps between
   * which the gateway goes on (see OrderProjection.snapshotJsonSteps).
   */
  async save(projection: OrderProjection, streamSeq: number, streamCreated: string): Promise<boolean> {
    if (streamSeq <= this.snapshots.lastSeq) return false;
    const json = await runInSteps(projection.snapshotJsonSteps(this.deps.reportsKept));
    // The fields of StoredProjection, with the projection's JSON as it was written.
    const head = JSON.stringify({ format: "tradeplane.risk.projection", streamSeq, streamCreated });
    const chunks = [Buffer.from(`${head.slice(0, -1)},"projection":`), ...json, Buffer.from("}")];
    const saved = await this.snapshots.save(streamSeq, () => chunks);
    return saved !== undefined;
  }
}
