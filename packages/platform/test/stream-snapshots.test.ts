import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { createLogger, StreamSnapshots, streamSnapshotName, type BlobStore } from "../src/index.ts";

/** A BlobStore in memory (the real one is tested through the services against nats-server). */
function memoryStore(): BlobStore & { readonly blobs: Map<string, Uint8Array> } {
  const blobs = new Map<string, Uint8Array>();
  return {
    blobs,
    put: async (name, bytes) => void blobs.set(name, bytes instanceof Uint8Array ? bytes : Buffer.concat(bytes)),
    get: async (name) => blobs.get(name) ?? null,
    list: async (prefix) => [...blobs.keys()].filter((n) => n.startsWith(prefix)),
    delete: async (name) => void blobs.delete(name),
  };
}

function setup(keep = 3) {
  const store = memoryStore();
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).trim().split("\n")) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ service: "test", destination });
  const snapshots = new StreamSnapshots({ store, prefix: "md-", keep, logger, what: "test state" });
  return { store, snapshots, lines };
}

const bytesOf = (text: string) => new TextEncoder().encode(text);
const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("StreamSnapshots", () => {
  it("names snapshots by zero-padded stream sequence, so names sort by sequence", () => {
    const { snapshots } = setup();
    expect(snapshots.nameOf(42)).toBe("md-0000000000000042");
    expect(streamSnapshotName("risk-", 7)).toBe("risk-0000000000000007");
    expect(snapshots.seqOf("md-0000000000000042")).toBe(42);
    for (const name of ["md-42", "md-00000000000000x2", "risk-0000000000000042", "md-00000000000000420"])
      expect(snapshots.seqOf(name), name).toBeUndefined();
  });

  it("lists its own snapshots newest first and ignores other names", async () => {
    const { store, snapshots } = setup();
    for (const name of ["md-0000000000000009", "md-0000000000000100", "md-0000000000000010", "md-junk", "p0-1"])
      await store.put(name, bytesOf(name));
    expect((await snapshots.list()).map((s) => s.streamSeq)).toEqual([100, 10, 9]);
  });

  it("writes a snapshot, keeps the newest few, and skips sequences it already has", async () => {
    const { store, snapshots, lines } = setup(2);
    for (const seq of [5, 9, 12])
      expect(await snapshots.save(seq, () => bytesOf(`at ${seq}`))).toMatchObject({ streamSeq: seq });
    expect([...store.blobs.keys()].sort()).toEqual([snapshots.nameOf(9), snapshots.nameOf(12)]);
    let encoded = false;
    expect(
      await snapshots.save(12, () => {
        encoded = true;
        return bytesOf("again");
      }),
    ).toBeUndefined();
    expect(encoded).toBe(false);
    expect(snapshots.lastSeq).toBe(12);
    expect(lines.at(-1)).toMatchObject({ msg: "test state snapshot written", streamSeq: 12, bytes: 5 });
  });

  it("loads the newest snapshot that decodes, passing over refused ones and ones past the stream's end", async () => {
    const { store, snapshots, lines } = setup();
    for (const [seq, text] of [
      [10, "good 10"],
      [20, "good 20"],
      [30, "bad"],
      [40, "good 40"],
    ] as const)
      await store.put(snapshots.nameOf(seq), bytesOf(text));
    const result = await snapshots.load(35, (bytes, entry) => {
      const text = textOf(bytes);
      if (!text.startsWith("good")) throw new Error("does not decode");
      return { text, seq: entry.streamSeq };
    });
    expect(result.loaded).toMatchObject({ streamSeq: 20, value: { text: "good 20", seq: 20 }, bytes: 7 });
    expect(result.skipped.map((s) => [s.streamSeq, s.reason])).toEqual([
      [40, "it is past the stream's last message 35"],
      [30, "does not decode"],
    ]);
    expect(snapshots.lastSeq).toBe(20);
    expect(lines.filter((l) => l.msg === "test state snapshot skipped").map((l) => l.streamSeq)).toEqual([40, 30]);
  });

  it("loads nothing when no snapshot decodes (the caller replays the stream from its start)", async () => {
    const { store, snapshots } = setup();
    await store.put(snapshots.nameOf(3), bytesOf("x"));
    const result = await snapshots.load(100, () => {
      throw new Error("no");
    });
    expect(result).toEqual({ loaded: undefined, skipped: [{ name: snapshots.nameOf(3), streamSeq: 3, reason: "no" }] });
    expect(snapshots.lastSeq).toBe(0);
  });
});
