import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { InstrumentState, VenueAdminClient } from "@tradeplane/contracts";
import { MAX_STATUS_MESSAGE_CHARS } from "@tradeplane/platform";
import { NatsServer, testInstrumentSettings, unary } from "@tradeplane/testkit";
import { EngineProcess } from "../support/engine-process.ts";
import { venueFixture } from "../support/venue-fixture.ts";

/**
 * VenueAdmin's contract, RPC by RPC: the status codes venue_admin.proto promises, each as a
 * row of a table. Every call here carries the admin credential unless the row is about it
 * (GetStatus and GetBook too: the credential rules are the admin-roles work's; these rows
 * hold whatever they become).
 */
const VENUE = "vac";
const ADMIN_TOKEN = "venue-admin-token-0123456789";
const LONG = "I".repeat(2_000);

describe("VenueAdmin: every RPC's documented errors", () => {
  let server: NatsServer;
  let fixture: Awaited<ReturnType<typeof venueFixture>>;
  let engine: EngineProcess;
  let admin: VenueAdminClient;

  beforeAll(async () => {
    server = await NatsServer.start();
    fixture = await venueFixture(server.url, VENUE);
    engine = new EngineProcess({
      natsUrl: server.url,
      venue: VENUE,
      instanceId: "engine-c",
      instruments: testInstrumentSettings,
      env: { TP_ADMIN_TOKENS_VENUE_OPERATOR: ADMIN_TOKEN },
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

  const md = (token = ADMIN_TOKEN): Metadata => {
    const m = new Metadata();
    m.set("authorization", `Bearer ${token}`);
    return m;
  };
  const failure = (call: Promise<unknown>): Promise<ServiceError> =>
    call.then(
      () => Promise.reject(new Error("the call succeeded")),
      (err: ServiceError) => err,
    );

  it.each<[string, (m: Metadata) => Promise<unknown>]>([
    ["Halt", (m) => unary((cb) => admin.halt({ instrument: "INFY", reason: "x" }, m, cb))],
    ["Resume", (m) => unary((cb) => admin.resume({ instrument: "INFY", reason: "x", state: 0 }, m, cb))],
    [
      "ChangeSession",
      (m) =>
        unary((cb) => admin.changeSession({ instrument: "INFY", state: InstrumentState.CLOSED, reason: "x" }, m, cb)),
    ],
  ])("%s refuses a caller without the admin credential, or with another token", async (_rpc, call) => {
    for (const m of [new Metadata(), md("not-the-admin-token-0123456789")])
      expect([status.UNAUTHENTICATED, status.PERMISSION_DENIED]).toContain((await failure(call(m))).code);
  });

  it.each<[string, () => Promise<unknown>, status]>([
    [
      "GetStatus of a partition this engine does not serve",
      () => unary((cb) => admin.getStatus({ partition: 7 }, md(), cb)),
      status.NOT_FOUND,
    ],
    [
      "GetBook of an instrument the engine does not list",
      () => unary((cb) => admin.getBook({ instrument: "NOPE", depth: 0 }, md(), cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "GetBook without an instrument",
      () => unary((cb) => admin.getBook({ instrument: "", depth: 0 }, md(), cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "Halt without a reason",
      () => unary((cb) => admin.halt({ instrument: "INFY", reason: " " }, md(), cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "Halt of an instrument the engine does not list",
      () => unary((cb) => admin.halt({ instrument: "NOPE", reason: "x" }, md(), cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "Halt of a 2,000-character instrument",
      () => unary((cb) => admin.halt({ instrument: LONG, reason: "x" }, md(), cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "Resume to HALTED",
      () => unary((cb) => admin.resume({ instrument: "INFY", reason: "x", state: InstrumentState.HALTED }, md(), cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "ChangeSession without a state",
      () => unary((cb) => admin.changeSession({ instrument: "INFY", state: 0, reason: "x" }, md(), cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "ChangeSession to HALTED (Halt's)",
      () =>
        unary((cb) =>
          admin.changeSession({ instrument: "INFY", state: InstrumentState.HALTED, reason: "x" }, md(), cb),
        ),
      status.INVALID_ARGUMENT,
    ],
    [
      "ChangeSession without a reason",
      () =>
        unary((cb) => admin.changeSession({ instrument: "INFY", state: InstrumentState.CLOSED, reason: "" }, md(), cb)),
      status.INVALID_ARGUMENT,
    ],
    [
      "ChangeSession with a reference price of 0",
      () =>
        unary((cb) =>
          admin.changeSession(
            { instrument: "INFY", state: InstrumentState.CLOSED, reason: "x", referencePrice: 0 },
            md(),
            cb,
          ),
        ),
      status.INVALID_ARGUMENT,
    ],
    [
      "ChangeSession with a reference price for every instrument",
      () =>
        unary((cb) =>
          admin.changeSession(
            { instrument: "", state: InstrumentState.CLOSED, reason: "x", referencePrice: 100_000 },
            md(),
            cb,
          ),
        ),
      status.INVALID_ARGUMENT,
    ],
  ])("%s", async (_name, call, code) => {
    const err = await failure(call());
    expect(err.code).toBe(code);
    expect(err.details.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_CHARS);
    expect(err.details).not.toContain("I".repeat(41));
  });

  it("answers GetStatus and GetBook, and writes a state change to the log", async () => {
    const statusRes = await unary<{ venue: string }>((cb) => admin.getStatus({}, md(), cb));
    expect(statusRes.venue).toBe(VENUE);
    const book = await unary<{ instrument: string }>((cb) => admin.getBook({ instrument: "INFY", depth: 0 }, md(), cb));
    expect(book.instrument).toBe("INFY");
    const halted = await unary<{ commands: unknown[] }>((cb) =>
      admin.halt({ instrument: "TCS", reason: "drill" }, md(), cb),
    );
    expect(halted.commands).toHaveLength(1);
  });
});
