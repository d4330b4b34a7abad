import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { InstrumentState, VenueAdminClient, VenueAdminService } from "@tradeplane/contracts";
import { NatsServer, testInstrumentSettings } from "@tradeplane/testkit";
import { VENUE_ADMIN_PERMISSIONS } from "../../src/adapters/venue-admin-grpc.ts";
import { EngineProcess } from "../support/engine-process.ts";
import { venueFixture } from "../support/venue-fixture.ts";

const VENUE = "roles";
const OPERATOR = "operator-token-0123456789";
const READER = "read-only-token-0123456789";
const RISK = "risk-officer-token-0123456789";

type Call = (client: VenueAdminClient, metadata: Metadata, cb: (err: ServiceError | null) => void) => unknown;

const CALLS: Record<keyof typeof VENUE_ADMIN_PERMISSIONS, Call> = {
  getStatus: (c, m, cb) => c.getStatus({}, m, cb),
  getBook: (c, m, cb) => c.getBook({ instrument: "INFY", depth: 5 }, m, cb),
  halt: (c, m, cb) => c.halt({ instrument: "TCS", reason: "drill" }, m, cb),
  resume: (c, m, cb) => c.resume({ instrument: "TCS", state: InstrumentState.CONTINUOUS, reason: "drill over" }, m, cb),
  changeSession: (c, m, cb) =>
    c.changeSession({ instrument: "TCS", state: InstrumentState.CONTINUOUS, reason: "open" }, m, cb),
};

function withToken(token: string | undefined): Metadata {
  const m = new Metadata();
  if (token !== undefined) m.set("authorization", `Bearer ${token}`);
  return m;
}

/**
 * Every VenueAdmin call needs an admin token of a role that allows it: reads included
 * (GetStatus and GetBook once answered anyone). The engine reads one role's tokens from a
 * file, as a Kubernetes Secret volume gives them, and another's from a variable.
 */
describe("VenueAdmin admin roles", () => {
  let server: NatsServer;
  let fixture: Awaited<ReturnType<typeof venueFixture>>;
  let engine: EngineProcess;
  let admin: VenueAdminClient;

  beforeAll(async () => {
    server = await NatsServer.start();
    fixture = await venueFixture(server.url, VENUE);
    const secrets = mkdtempSync(join(tmpdir(), "tp-admin-secrets-"));
    writeFileSync(join(secrets, "read-only"), `${READER}\n`, { mode: 0o600 });
    engine = new EngineProcess({
      natsUrl: server.url,
      venue: VENUE,
      instanceId: "engine-roles",
      instruments: testInstrumentSettings,
      env: {
        TP_ADMIN_TOKENS_VENUE_OPERATOR: OPERATOR,
        TP_ADMIN_TOKENS_RISK_OFFICER: RISK,
        TP_ADMIN_TOKENS_READ_ONLY_FILE: join(secrets, "read-only"),
      },
    });
    await engine.start();
    admin = new VenueAdminClient(`127.0.0.1:${engine.grpcPort}`, credentials.createInsecure());
  });

  afterAll(async () => {
    admin?.close();
    await EngineProcess.killAll();
    await fixture?.nc.close();
    await server?.dispose();
  });

  const call = (method: keyof typeof CALLS, token: string | undefined): Promise<number> =>
    new Promise((resolve) => CALLS[method](admin, withToken(token), (err) => resolve(err?.code ?? GrpcStatus.OK)));

  it("names a permission for every VenueAdmin method", () => {
    expect(Object.keys(VENUE_ADMIN_PERMISSIONS).sort()).toEqual(Object.keys(VenueAdminService).sort());
  });

  const methods = Object.keys(CALLS) as (keyof typeof CALLS)[];
  it.each(methods)("refuses %s without a token, and with a token that is not an admin token", async (method) => {
    expect(await call(method, undefined)).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(await call(method, "alice-trading-token-0123456789")).toBe(GrpcStatus.UNAUTHENTICATED);
  });

  const TOKENS = { "read-only": READER, "risk-officer": RISK, "venue-operator": OPERATOR } as const;
  it.each([
    ["getStatus", "read-only", GrpcStatus.OK],
    ["getBook", "read-only", GrpcStatus.OK],
    ["getStatus", "risk-officer", GrpcStatus.OK],
    ["getBook", "venue-operator", GrpcStatus.OK],
    ["halt", "read-only", GrpcStatus.PERMISSION_DENIED],
    ["halt", "risk-officer", GrpcStatus.PERMISSION_DENIED],
    ["resume", "read-only", GrpcStatus.PERMISSION_DENIED],
    ["changeSession", "risk-officer", GrpcStatus.PERMISSION_DENIED],
    ["halt", "venue-operator", GrpcStatus.OK],
    ["resume", "venue-operator", GrpcStatus.OK],
  ] as const)("answers %s with a %s token with status %i", async (method, role, code) => {
    expect(await call(method, TOKENS[role])).toBe(code);
  });
});
