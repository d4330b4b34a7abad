import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata } from "@grpc/grpc-js";
import {
  Command,
  CommandBatch,
  COMMANDS_PER_ENTRY,
  commandSeqOf,
  commandSubject,
  eventStreamName,
  eventSubjects,
  InstrumentState,
  RejectReason,
  VenueAdminClient,
  type GetBookResponse,
  type GetStatusResponse,
  type HaltResponse,
} from "@tradeplane/contracts";
import { commandStream, NatsServer, testInstrumentSettings, unary } from "@tradeplane/testkit";
import { context, trace } from "@opentelemetry/api";
import { jetstreamManager } from "@nats-io/jetstream";
import { initTelemetry } from "@tradeplane/platform";
import { EngineProcess } from "../support/engine-process.ts";
import { appendAll, entrySeqs, lastMarkOf, readEvents, referenceRun, venueFixture } from "../support/venue-fixture.ts";

const VENUE = "svc";
const ADMIN_TOKEN = "test-admin-token-0123456789";

describe("the matching engine service on a real nats-server", () => {
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
      instanceId: "engine-a",
      instruments: testInstrumentSettings,
      env: { TP_ADMIN_TOKENS_VENUE_OPERATOR: ADMIN_TOKEN, TP_SNAPSHOT_EVERY_COMMANDS: "500" },
    });
    await engine.start();
    admin = new VenueAdminClient(`127.0.0.1:${engine.grpcPort}`, credentials.createInsecure());
  });

  afterAll(async () => {
    await EngineProcess.killAll();
    admin?.close();
    await engine?.signal("SIGTERM");
    await fixture?.nc.close();
    await server?.dispose();
  });

  const commands = commandStream(2_000, 7, entrySeqs());

  it("applies the log in order and publishes each event once, as the pure partition computes them", async () => {
    const last = await appendAll(fixture.js, VENUE, commands);
    expect(last).toBe(entrySeqs()(1_999));
    const reference = referenceRun(commands);
    await engine.waitForMark(lastMarkOf(reference.events));
    const stored = await readEvents(fixture.nc, VENUE);
    expect(stored.map((e) => e.msgId)).toEqual(reference.events.map((e) => e.msgId));
    expect(Buffer.concat(stored.map((e) => e.bytes)).equals(Buffer.concat(reference.events.map((e) => e.bytes)))).toBe(
      true,
    );
    expect((await engine.ops<{ digest: string }>("/digest")).digest).toBe(reference.digest);
  });

  it.each([
    ["bytes that do not decode", new Uint8Array([0xff, 0xff, 0xff, 0x01])],
    ["an entry without commands", CommandBatch.encode({ commands: [] }).finish()],
    [
      "an entry of more commands than an entry may hold",
      CommandBatch.encode({ commands: commandStream(COMMANDS_PER_ENTRY + 1, 5) }).finish(),
    ],
  ])("records %s as one rejection and keeps going", async (_name, bytes) => {
    const bad = await fixture.js.publish(commandSubject(VENUE, 0), bytes);
    const good = await appendAll(fixture.js, VENUE, commandStream(1, 99, entrySeqs(bad.seq + 1)));
    await engine.waitForMark({ cmdSeq: good, index: 0 });
    const events = await readEvents(fixture.nc, VENUE);
    const rejection = events.find((e) => e.msgId === `${commandSeqOf(bad.seq, 0)}-0`)!;
    expect(rejection.events).toHaveLength(1);
    expect(rejection.events[0]!.body).toMatchObject({
      $case: "rejected",
      value: { reason: RejectReason.MALFORMED_COMMAND },
    });
    expect(events.some((e) => e.msgId.startsWith(`${good}-`))).toBe(true);
  });

  it("refuses to start, exit 78 naming the format, on a log written in another format", async () => {
    const venue = "oldformat";
    const old = await venueFixture(server.url, venue);
    // One command per message and no stamp: a log from before command-log entries.
    await old.js.publish(commandSubject(venue, 0), Command.encode(commandStream(1, 1)[0]!).finish());
    const e = new EngineProcess({ natsUrl: server.url, venue, instanceId: "old", instruments: testInstrumentSettings });
    await expect(e.start()).rejects.toThrow(/code 78[\s\S]*hold log format 1; this build reads format 2/);
    await old.nc.close();
  });

  it("carries the writer's trace context through the command into the events' headers", async () => {
    const telemetry = initTelemetry("test-writer", "memory");
    const span = telemetry.tracer.startSpan("client.submit");
    const traceId = span.spanContext().traceId;
    const ack = await context.with(trace.setSpan(context.active(), span), () =>
      fixture.writer.append(0, commandStream(1, 123)[0]!),
    );
    span.end();
    await engine.waitForMark({ cmdSeq: ack.seq, index: 0 });
    const jsm = await jetstreamManager(fixture.nc);
    const event = await jsm.streams.getMessage(eventStreamName(VENUE), { last_by_subj: eventSubjects(VENUE) });
    expect(event?.header?.get("traceparent")).toContain(traceId);
    await telemetry.shutdown();
  });

  it("reports status and the book over VenueAdmin", async () => {
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${ADMIN_TOKEN}`);
    const status = await unary<GetStatusResponse>((cb) => admin.getStatus({}, metadata, cb));
    expect(status.replicas[0]).toMatchObject({ partition: 0, instance: "engine-a", lag: 0 });
    expect(status.replicas[0]!.lastCommandSeq).toBeGreaterThanOrEqual(entrySeqs()(1_999));
    const book = await unary<GetBookResponse>((cb) => admin.getBook({ instrument: "INFY", depth: 5 }, metadata, cb));
    expect(book.state).toBe(InstrumentState.CONTINUOUS);
    expect(book.bidLevels.length + book.askLevels.length).toBeGreaterThan(0);
    if (book.bidLevels[0] && book.askLevels[0]) expect(book.bidLevels[0].price).toBeLessThan(book.askLevels[0].price);
  });

  it("halts through the command log, and refuses callers without the admin token", async () => {
    const refused = await new Promise<Error | null>((resolve) =>
      admin.halt({ instrument: "TCS", reason: "test" }, (err) => resolve(err)),
    );
    expect(refused?.message).toMatch(/UNAUTHENTICATED|invalid admin token/);
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${ADMIN_TOKEN}`);
    const halted = await unary<HaltResponse>((cb) =>
      admin.halt({ instrument: "TCS", reason: "circuit breaker drill" }, metadata, cb),
    );
    const seq = halted.commands[0]!.commandSeq;
    await engine.waitForMark({ cmdSeq: seq, index: 0 });
    const events = await readEvents(fixture.nc, VENUE);
    const change = events.find((e) => e.msgId === `${seq}-0`)!;
    expect(change.events[0]!.body).toMatchObject({
      $case: "instrumentStateChanged",
      value: {
        state: InstrumentState.HALTED,
        previousState: InstrumentState.CONTINUOUS,
        reason: "circuit breaker drill",
      },
    });
  });
});
