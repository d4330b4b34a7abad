import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, loadPackageDefinition, type Client } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { Counter } from "prom-client";
import { Writable } from "node:stream";
import {
  createLogger,
  createMetricsRegistry,
  Health,
  startGrpcServer,
  startOpsServer,
  type GrpcServer,
  type OpsServer,
} from "../src/index.ts";

const silent = createLogger({ service: "test", destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe("ops HTTP endpoint and gRPC health over loopback", () => {
  const health = new Health();
  const registry = createMetricsRegistry("test");
  let ops: OpsServer;
  let grpc: GrpcServer;
  let client: Client & { check: (req: object, cb: (err: Error | null, res: { status: string }) => void) => void };

  beforeAll(async () => {
    new Counter({ name: "tp_test_total", help: "a test counter", registers: [registry] }).inc(3);
    health.register("nats");
    ops = await startOpsServer({ host: "127.0.0.1", port: 0, registry, health, logger: silent });
    grpc = await startGrpcServer({ host: "127.0.0.1", port: 0, services: [], health, logger: silent });
    const def = loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: new (addr: string, creds: unknown) => typeof client } } };
    };
    client = new def.grpc.health.v1.Health(`127.0.0.1:${grpc.port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await grpc?.close();
    await ops?.close();
  });

  const get = (path: string) => fetch(`http://127.0.0.1:${ops.port}${path}`);
  const check = () =>
    new Promise<string>((resolve, reject) =>
      client.check({ service: "" }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );

  it("serves Prometheus metrics with the service label", async () => {
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('tp_test_total{service="test"} 3');
    expect(text).toContain("process_resident_memory_bytes");
  });

  it("is alive at once, ready and SERVING only when every check is ok", async () => {
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/readyz")).status).toBe(503);
    expect(await check()).toBe("NOT_SERVING");
    health.set("nats", "ok");
    expect((await get("/readyz")).status).toBe(200);
    expect(await check()).toBe("SERVING");
  });

  it("answers 404 for unknown paths", async () => {
    expect((await get("/nope")).status).toBe(404);
  });
});
