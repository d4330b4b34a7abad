import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectTo, NatsServer } from "@tradeplane/testkit";
import { provision, ProvisioningConflictError, type ProvisioningPlan, type StreamSpec } from "../src/index.ts";

const cmd: StreamSpec = {
  name: "T_CMD",
  subjects: ["t.cmd.>"],
  storage: "file",
  replicas: 1,
  maxAgeSeconds: 0,
  maxBytes: 0,
  maxMessages: 0,
  discard: "new",
  duplicateWindowSeconds: 120,
};

const plan = (stream: StreamSpec): ProvisioningPlan => ({
  streams: [stream],
  kv: [{ bucket: "t_leases", storage: "file", replicas: 1, history: 1 }],
  objectStores: [{ bucket: "t_snapshots", storage: "file", replicas: 1 }],
});

describe("provision against a real nats-server", () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connectTo(server.url);
  });

  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it("creates streams, KV buckets and object stores", async () => {
    const outcomes = await provision(nc, plan(cmd));
    expect(outcomes.map((o) => `${o.kind}:${o.name}:${o.action}`)).toEqual([
      "stream:T_CMD:created",
      "kv:t_leases:created",
      "object-store:t_snapshots:created",
    ]);
    const info = await (await jetstreamManager(nc)).streams.info("T_CMD");
    expect(info.config.discard).toBe("new");
    expect(info.config.duplicate_window).toBe(120e9);
  });

  it("changes nothing when run again", async () => {
    const outcomes = await provision(nc, plan(cmd));
    expect(outcomes.every((o) => o.action === "unchanged")).toBe(true);
  });

  it("updates what JetStream can change in place", async () => {
    const [stream] = await provision(nc, plan({ ...cmd, maxAgeSeconds: 3600, subjects: ["t.cmd.>", "t.admin.>"] }));
    expect(stream!.action).toBe("updated");
    expect(stream!.changes!.join(" ")).toContain("max_age");
  });

  it("puts back a KV bucket's history that was changed behind its back", async () => {
    const jsm = await jetstreamManager(nc);
    const { config } = await jsm.streams.info("KV_t_leases");
    await jsm.streams.update("KV_t_leases", { ...config, max_msgs_per_subject: 7 });
    const outcomes = await provision(nc, plan(cmd));
    expect(outcomes.find((o) => o.kind === "kv")).toMatchObject({ action: "updated", changes: ["history 7 -> 1"] });
    expect((await jsm.streams.info("KV_t_leases")).config.max_msgs_per_subject).toBe(1);
  });

  it("refuses a storage change of a bucket with a clear error", async () => {
    const memoryStore = {
      ...plan(cmd),
      objectStores: [{ bucket: "t_snapshots", storage: "memory" as const, replicas: 1 }],
    };
    await expect(provision(nc, memoryStore)).rejects.toThrow(
      /object-store t_snapshots cannot change in place: storage/,
    );
  });

  it("refuses a storage change with a clear error", async () => {
    await expect(provision(nc, plan({ ...cmd, storage: "memory" }))).rejects.toThrow(ProvisioningConflictError);
  });
});
