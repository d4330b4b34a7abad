import type { ObjectStore } from "@nats-io/obj";

/**
 * Engine snapshots in a JetStream object store, one object per snapshot, named
 * `p<partition>-<lastSeq zero-padded>` so names sort by sequence. Only the newest
 * `keep` snapshots of a partition are kept.
 */
export interface StoredSnapshot {
  readonly name: string;
  readonly lastSeq: number;
  readonly size: number;
}

const SEQ_DIGITS = 16;

export class SnapshotStore {
  private readonly store: ObjectStore;
  private readonly partition: number;
  private readonly keep: number;

  constructor(store: ObjectStore, partition: number, keep: number) {
    this.store = store;
    this.partition = partition;
    this.keep = keep;
  }

  private prefix(): string {
    return `p${this.partition}-`;
  }

  nameOf(lastSeq: number): string {
    return `${this.prefix()}${String(lastSeq).padStart(SEQ_DIGITS, "0")}`;
  }

  /** This partition's snapshots, newest first. */
  async list(): Promise<StoredSnapshot[]> {
    const infos = await this.store.list();
    return infos
      .filter((i) => !i.deleted && i.name.startsWith(this.prefix()))
      .map((i) => ({ name: i.name, lastSeq: Number(i.name.slice(this.prefix().length)), size: i.size }))
      .filter((s) => Number.isSafeInteger(s.lastSeq))
      .sort((a, b) => b.lastSeq - a.lastSeq);
  }

  async read(name: string): Promise<Uint8Array | null> {
    return this.store.getBlob(name);
  }

  async write(lastSeq: number, bytes: Uint8Array): Promise<void> {
    await this.store.putBlob({ name: this.nameOf(lastSeq) }, bytes);
    const all = await this.list();
    for (const old of all.slice(this.keep)) await this.store.delete(old.name);
  }
}
