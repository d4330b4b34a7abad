import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectTo, NatsServer } from "@tradeplane/testkit";
import { createLogger } from "@tradeplane/platform";
import { AccountOwners } from "../../src/adapters/account-owners.ts";
import type { LostReason } from "../../src/domain/account-ownership.ts";

const logger = createLogger({ service: "risk-test", level: (process.env.TEST_LOG ?? "silent") as "silent" });
// Long enough that a stalled test process (one event loop runs every replica here, on two
// shared cores) does not look like a dead owner to its peers: a stall of most of the ttl
// would let a live owner's account be taken over in a test that expects it kept.
const TTL_MS = 3_000;
const PARTITIONS = [0, 1];

/**
 * One replica's AccountOwners on its own NATS connection. Its fence port stands in for the
 * engine: it answers every partition with AccountFenced at the epoch written, as a partition
 * whose fence was lower does (the engine side is tested in packages/matching-core).
 */
async function replica(
  url: string,
  bucket: string,
  name: string,
): Promise<{ owners: AccountOwners; nc: NatsConnection; fences: [string, number][]; lost: [string, LostReason][] }> {
  const nc = await connectTo(url, name);
  const kv = await new Kvm(nc).open(bucket);
  const fences: [string, number][] = [];
  const lost: [string, LostReason][] = [];
  const owners: AccountOwners = new AccountOwners({
    kv,
    holder: `${name}-nonce`,
    address: `${name}.peer:7000`,
    ttlMs: TTL_MS,
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

describe("AccountOwners against a real nats-server", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let kv: KV;
  let bucket = "";
  let n = 0;
  const started: { owners: AccountOwners; nc: NatsConnection }[] = [];

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
  const start = async (name: string) => {
    const r = await replica(server.url, bucket, name);
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
    // Renewals move the key's revision on from the epoch, never back.
    expect(key!.revision).toBeGreaterThanOrEqual(epoch);
    expect(key!.json()).toEqual({ holder: "a-nonce", address: "a.peer:7000" });
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

  it("a replica that stops renewing (dead, or paused) loses the account to one that takes it over after the ttl, at a higher epoch", async () => {
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
    if (first.kind === "decide" && second.kind === "decide") expect(second.epoch).toBeGreaterThan(first.epoch);
    expect((await kv.get("acc1"))!.json()).toEqual({ holder: "b-nonce", address: "b.peer:7000" });
    // a still believes it owns the account: only the engine's fence stops its writes.
    expect(a.owners.epochOf("acc1")).toBe(first.kind === "decide" ? first.epoch : -1);
  });

  it("an owner whose renewal finds the lease taken drops the account and says so", async () => {
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

  it("a replica that stops releases its leases, so another takes its accounts at once", async () => {
    const a = await start("a");
    const b = await start("b");
    await a.owners.route("acc1", false, 5_000);
    await a.owners.stop();
    await waitFor(() => b.owners.ownerOf("acc1") === undefined);
    expect((await b.owners.route("acc1", false, 5_000)).kind).toBe("decide");
  });

  it("a held lease is renewed, moving its revision but not its epoch", async () => {
    const a = await start("a");
    const first = await a.owners.route("acc1", false, 5_000);
    const before = (await kv.get("acc1"))!.revision;
    await waitFor(async () => (await kv.get("acc1"))!.revision > before);
    expect(a.owners.epochOf("acc1")).toBe(first.kind === "decide" ? first.epoch : -1);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
