import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { Writable } from "node:stream";
import { VenueAdminService } from "@tradeplane/contracts";
import {
  ConfigError,
  contractsForReflection,
  createLogger,
  Health,
  startGrpcServer,
  type GrpcServer,
  type GrpcServerOptions,
} from "../src/index.ts";
import { ReflectionTestClient, unlinkedReferences } from "./support/reflection-client.ts";

const lines: string[] = [];
const logger = createLogger({
  service: "test",
  destination: new Writable({
    write: (chunk: Buffer, _e, cb) => {
      lines.push(chunk.toString());
      cb();
    },
  }),
});

const start = (extra: Partial<GrpcServerOptions>): Promise<GrpcServer> =>
  startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    health: new Health(),
    logger,
    services: [{ name: "tradeplane.v1.VenueAdmin", definition: VenueAdminService, implementation: {} }],
    ...extra,
  });

describe("gRPC server reflection over loopback", () => {
  let on: GrpcServer;
  let off: GrpcServer;
  const clients: ReflectionTestClient[] = [];
  const client = (server: GrpcServer): ReflectionTestClient => {
    const c = new ReflectionTestClient(`127.0.0.1:${server.port}`);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    on = await start({});
    off = await start({ reflection: false });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await on?.close();
    await off?.close();
  });

  it("is on by default and lists exactly the services the server hosts, with health and reflection", async () => {
    expect(await client(on).listServices()).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "tradeplane.v1.VenueAdmin",
    ]);
  });

  it("resolves a hosted service to its file descriptor and the files it depends on", async () => {
    const [file, ...deps] = await client(on).fileContainingSymbol("tradeplane.v1.VenueAdmin");
    expect(file?.package).toBe("tradeplane.v1");
    expect(file?.service.find((s) => s.name === "VenueAdmin")?.method.map((m) => m.name)).toContain("Halt");
    expect(file?.dependency).toContain("google_protobuf.proto");
    expect(deps.map((d) => d.name).sort()).toEqual([...(file?.dependency ?? [])].sort());
    // What grpcurl needs to link the descriptors (grpc/grpc-node#3034 without the linking pass).
    expect(unlinkedReferences([file!, ...deps])).toEqual([]);
  });

  it("answers NOT_FOUND for a symbol no contract defines", async () => {
    await expect(client(on).fileContainingSymbol("tradeplane.v1.Nope")).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
  });

  it("is absent when switched off", async () => {
    await expect(client(off).listServices()).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
  });

  it("logs the hosted services no .proto defines", async () => {
    const server = await start({
      services: [
        { name: "tradeplane.v1.Unknown", definition: { ping: VenueAdminService.getStatus }, implementation: {} },
      ],
    });
    await server.close();
    expect(lines.join("")).toMatch(/"services":\["tradeplane.v1.Unknown"\].*reflection omits them/);
  });

  it("names the setting that switches it off when the contracts cannot be loaded", () => {
    expect(() => contractsForReflection("/nonexistent/proto")).toThrow(ConfigError);
    expect(() => contractsForReflection("/nonexistent/proto")).toThrow(
      /^TP_GRPC_REFLECTION \(grpcReflection\): cannot load the protobuf contracts from \/nonexistent\/proto: .*TP_GRPC_REFLECTION=false/,
    );
  });
});
