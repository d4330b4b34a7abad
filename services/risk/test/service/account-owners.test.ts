import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectTo, NatsServer } from "@tradeplane/testkit";
import { createLogger } from "@tradeplane/platform";
import { AccountOwners } from "../../src/adapters/account-owners.ts";
import { livenessKey, type LostReason, type Route } from "../../src/domain/account-ownership.ts";
import { bucketWrites, livenessKeys } from "../integration/owner-support.ts";

const logger = createLogger({ service: "risk-test", level: (process.env.TEST_LOG ?? "silent") as "silent" });
// Long enough that a stalled test process (one event loop runs every replica here, on two
// shared cores) does not look like a dead owner to its peers: a stall of most of the ttl
// would let a live owner's account be taken over in a test that expects it kept.
const TTL_MS = 3_000;
// A replica that must take nothing by expiry during a test: whatever it takes, it takes
// because the owner stopped or because the key is free, never because time passed.
const NEVER_EXPIRES_MS = 60_000;
const PARTITIONS = [0, 1];

interface Replica {
  owners: AccountOwners;
  nc: NatsConnection;
  fences: [string, number][];
  lost: [string, LostReason][];
}

/**
 * One replica's AccountOwners on its own NATS connection. Its fence port stands in for the
 * engine: it answers every partition with AccountFenced at the epoch written, as a partition
 * whose fence was lower does (the engine side is tested in packages/matching-core).
 */
async function replica(url: string, bucket: string, name: string, ttlMs: number): Promise<Replica> {
  const nc = await connectTo(url, name);
  const kv = await new Kvm(nc).open(bucket);
  const fences: [string, number][] = [];
  const lost: [string, LostReason][] = [];
  const owners: AccountOwners = new AccountOwners({
    kv,
    holder: `${name}-nonce`,
    address: `${name}.peer:7000`,
    ttlMs,
    partitions: PARTITIONS,
    fence: async (account, epoch) => {
      fences.push([account, epoch]);
      for (const p of PARTITIONS) setImmediate(() => owners.partitionFenced(account, p, epoch));
    },
    onLost: (account, why) => lost.push([account, why]),
    logger,
  });
  await owners.start();
  return { owners, nc, fences, lost };
}

const epochOf = (route: Route): number => (route.kind === "decide" ? route.epoch : -1);
const accounts = (n: number, prefix = "acc") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("AccountOwners against a real nats-server", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let kv: KV;
  let bucket = "";
  let n = 0;
  const started: Replica[] = [];

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connectTo(server.url);
  });
  afterAll(async () => {
    for (const r of started) {
      await r.owners.stop().catch(() => undefined);
      await r.nc.close().catch(() => undefined);
    }
    await nc?.close();
    await server?.dispose();
  });
  beforeEach(async () => {
    bucket = `owners_${++n}`;
    kv = await new Kvm(nc).create(bucket, { history: 1 });
  });
  const start = async (name: string, ttlMs = TTL_MS) => {
    const r = await replica(server.url, bucket, name, ttlMs);
    started.push(r);
    return r;
  };

  it("the first replica to see an account takes it, fences every partition with its epoch, and decides it after one order-rate window", async () => {
    const a = await start("a");
    const route = await a.owners.route("acc1", false, 5_000);
    const key = await kv.get("acc1");
    const epoch = a.fences[0]?.[1] ?? -1;
    expect(route).toEqual({ kind: "decide", epoch });
    expect(a.fences).toEqual([["acc1", epoch]]);
    // The account key is written once, on acquisition: its revision is the epoch.
    expect(key!.revision).toBe(epoch);
    expect(key!.json()).toEqual({ holder: "a-nonce", address: "a.peer:7000" });
    // Beside it, the replica's one liveness key.
    expect(await livenessKeys(kv)).toEqual(new Map([["_liveness.a-nonce", "a-nonce"]]));
  });

  it("a second replica forwards the account to its owner; a forwarded request is never forwarded again", async () => {
    const a = await start("a");
    const b = await start("b");
    await a.owners.route("acc1", false, 5_000);
    await waitFor(() => b.owners.ownerOf("acc1")?.holder === "a-nonce");
    expect(await b.owners.route("acc1", false, 5_000)).toEqual({
      kind: "forward",
      holder: "a-nonce",
      address: "a.peer:7000",
    });
    expect(await b.owners.route("acc1", true, 5_000)).toEqual({ kind: "retry", why: "moved" });
    expect(b.fences).toEqual([]);
  });

  it("of two replicas racing for a free account exactly one owns it and the other forwards to it", async () => {
    const a = await start("a");
    const b = await start("b");
    const [ra, rb] = await Promise.all([a.owners.route("acc1", false, 5_000), b.owners.route("acc1", false, 5_000)]);
    const kinds = [ra.kind, rb.kind].sort();
    expect(kinds).toEqual(["decide", "forward"]);
    expect(a.fences.length + b.fences.length).toBe(1);
  });

  it("a replica whose liveness key stops moving (dead, or paused) loses the account to one that takes it over after the ttl, at a higher epoch", async () => {
    const a = await start("a");
    const b = await start("b");
    const first = await a.owners.route("acc1", false, 5_000);
    await waitFor(() => b.owners.ownerOf("acc1")?.holder === "a-nonce");
    await a.nc.close(); // a can neither renew nor hear about the takeover: a stale owner
    const closedAt = performance.now();
    // Until the ttl has passed on b's clock, b forwards (and the forward fails: a is gone).
    let second = await b.owners.route("acc1", false, 10_000);
    if (performance.now() - closedAt < TTL_MS / 2) expect(second.kind).toBe("forward");
    await waitFor(async () => (second = await b.owners.route("acc1", false, 10_000)).kind !== "forward", 30_000);
    expect(first.kind).toBe("decide");
    expect(second.kind).toBe("decide");
    expect(epochOf(second)).toBeGreaterThan(epochOf(first));
    expect((await kv.get("acc1"))!.json()).toEqual({ holder: "b-nonce", address: "b.peer:7000" });
    // a still believes it owns the account: only the engine's fence stops its writes.
    expect(a.owners.epochOf("acc1")).toBe(epochOf(first));
  });

  it("a held account is not taken over while its owner's liveness key moves, though its account key never moves", async () => {
    const a = await start("a");
    const b = await start("b");
    const first = await a.owners.route("acc1", false, 5_000);
    await waitFor(() => b.owners.ownerOf("acc1")?.holder === "a-nonce");
    const livenessBefore = (await kv.get(livenessKey("a-nonce")))!.revision;
    // Well past the ttl since the account key was written.
    await new Promise((r) => setTimeout(r, TTL_MS * 1.5));
    expect(await b.owners.route("acc1", false, 5_000)).toEqual({
      kind: "forward",
      holder: "a-nonce",
      address: "a.peer:7000",
    });
    expect((await kv.get("acc1"))!.revision).toBe(epochOf(first));
    expect((await kv.get(livenessKey("a-nonce")))!.revision).toBeGreaterThan(livenessBefore);
    expect(b.fences).toEqual([]);
    expect(a.owners.epochOf("acc1")).toBe(epochOf(first));
  });

  it("a replica that starts watching judges a silent owner from when it first saw it: it forwards, not takes", async () => {
    const a = await start("a");
    await a.owners.route("acc1", false, 5_000);
    await a.nc.close(); // dead: its liveness key will never move again
    const b = await start("b", NEVER_EXPIRES_MS);
    expect((await b.owners.route("acc1", false, 5_000)).kind).toBe("forward");
  });

  it("an owner whose account key is taken drops the account and says so", async () => {
    const a = await start("a");
    const first = await a.owners.route("acc1", false, 5_000);
    const entry = await kv.get("acc1");
    // Another replica took it (as after a pause longer than the ttl).
    await kv.update("acc1", JSON.stringify({ holder: "c-nonce", address: "c.peer:7000" }), entry!.revision);
    await waitFor(() => a.lost.length > 0);
    expect(a.lost).toEqual([["acc1", "lease-lost"]]);
    expect(a.owners.epochOf("acc1")).toBeUndefined();
    expect(first.kind).toBe("decide");
    expect(await a.owners.route("acc1", false, 5_000)).toEqual({
      kind: "forward",
      holder: "c-nonce",
      address: "c.peer:7000",
    });
  });

  it.each<[string, (kv: KV, key: string) => Promise<unknown>]>([
    ["written by another", (kv, key) => kv.put(key, JSON.stringify({ holder: "c-nonce", address: "c.peer:7000" }))],
    ["deleted by another", (kv, key) => kv.delete(key)],
  ])(
    "an owner whose liveness key was %s drops every account it holds, then shows it is alive again and takes them back at new epochs",
    async (_how, touch) => {
      const a = await start("a");
      const before = await Promise.all(["acc1", "acc2"].map((acc) => a.owners.route(acc, false, 5_000)));
      await touch(kv, livenessKey("a-nonce"));
      await waitFor(() => a.lost.length === 2);
      expect(a.lost.sort()).toEqual([
        ["acc1", "lease-lost"],
        ["acc2", "lease-lost"],
      ]);
      expect(a.owners.epochOf("acc1")).toBeUndefined();
      expect(a.owners.epochOf("acc2")).toBeUndefined();
      // Its liveness key is its own again.
      await waitFor(
        async () => (await kv.get(livenessKey("a-nonce")))?.json<{ holder: string }>().holder === "a-nonce",
      );
      // The account keys still name it: asked again, it takes them by CAS, fencing its old epoch.
      const again = await a.owners.route("acc1", false, 5_000);
      expect(epochOf(again)).toBeGreaterThan(epochOf(before[0]!));
    },
  );

  it("an owner whose own renewal landed unacknowledged (its value, a revision it did not see) keeps every account", async () => {
    const a = await start("a");
    const first = await a.owners.route("acc1", false, 5_000);
    const key = livenessKey("a-nonce");
    const current = (await kv.get(key))!;
    // The write a renewal whose ack was lost would have made: the replica's own value.
    const landed = await kv.update(key, current.string(), current.revision);
    await waitFor(async () => (await kv.get(key))!.revision > landed);
    expect(a.lost).toEqual([]);
    expect(a.owners.epochOf("acc1")).toBe(epochOf(first));
  });

  it("an owner stopped with its account keys left behind: its deleted liveness key frees them at once", async () => {
    const a = await start("a");
    const first = await a.owners.route("acc1", false, 5_000);
    const b = await start("b", NEVER_EXPIRES_MS);
    await waitFor(() => b.owners.ownerOf("acc1")?.holder === "a-nonce");
    await a.nc.close(); // its account key stays
    await kv.delete(livenessKey("a-nonce")); // as its stop would have
    await waitFor(async () => (await b.owners.route("acc1", false, 5_000)).kind === "decide");
    expect(b.owners.epochOf("acc1")).toBeGreaterThan(epochOf(first));
  });

  it("an AccountFenced above our epoch (another owner's fence) drops the account", async () => {
    const a = await start("a");
    const first = await a.owners.route("acc1", false, 5_000);
    if (first.kind !== "decide") throw new Error("not decided");
    a.owners.partitionFenced("acc1", 1, first.epoch + 10);
    expect(a.lost).toEqual([["acc1", "superseded"]]);
    expect(a.owners.epochOf("acc1")).toBeUndefined();
  });

  it("a FENCED reject from the engine drops the account", async () => {
    const a = await start("a");
    await a.owners.route("acc1", false, 5_000);
    a.owners.fencedReject("acc1");
    expect(a.lost).toEqual([["acc1", "fenced-by-engine"]]);
    expect(a.owners.epochOf("acc1")).toBeUndefined();
  });

  it("a replica that stops releases every lease and its liveness key, so another takes all its accounts at once", async () => {
    const a = await start("a");
    const b = await start("b", NEVER_EXPIRES_MS);
    const held = accounts(50);
    await Promise.all(held.map((acc) => a.owners.route(acc, false, 10_000)));
    await waitFor(() => held.every((acc) => b.owners.ownerOf(acc)?.holder === "a-nonce"));
    await a.owners.stop();
    expect(await livenessKeys(kv)).toEqual(new Map([["_liveness.b-nonce", "b-nonce"]]));
    const routes = await Promise.all(held.map((acc) => b.owners.route(acc, false, 10_000)));
    expect(routes.every((r) => r.kind === "decide")).toBe(true);
  });

  it("the liveness key is renewed, moving its revision, while the account key and the epoch stay", async () => {
    const a = await start("a");
    const first = await a.owners.route("acc1", false, 5_000);
    const before = (await kv.get(livenessKey("a-nonce")))!.revision;
    await waitFor(async () => (await kv.get(livenessKey("a-nonce")))!.revision > before + 1);
    expect((await kv.get("acc1"))!.revision).toBe(epochOf(first));
    expect(a.owners.epochOf("acc1")).toBe(epochOf(first));
  });

  it("2,000 accounts held cost the bucket only the liveness key's writes: one per renewal interval", async () => {
    const a = await start("a");
    const held = accounts(2_000);
    for (let i = 0; i < held.length; i += 500)
      await Promise.all(held.slice(i, i + 500).map((acc) => a.owners.route(acc, false, 30_000)));
    expect(held.every((acc) => a.owners.epochOf(acc) !== undefined)).toBe(true);
    const interval = TTL_MS / 4;
    const fromMs = performance.now();
    const from = await bucketWrites(nc, bucket);
    await new Promise((r) => setTimeout(r, 4 * interval));
    const writes = (await bucketWrites(nc, bucket)) - from;
    const intervals = Math.ceil((performance.now() - fromMs) / interval);
    // At most one renewal per interval that passed, plus one in flight when counting began
    // (a renewal per account would be 2,000 each).
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(intervals + 1);
    expect(held.every((acc) => a.owners.epochOf(acc) !== undefined)).toBe(true);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
