import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RejectReason, type Command } from "@tradeplane/contracts";
import { NatsServer, waitForJetStream } from "@tradeplane/testkit";
import { commandStream, prng, testInstrumentSettings } from "@tradeplane/testkit";
import { EngineProcess } from "../support/engine-process.ts";
import {
  backgroundAppender,
  entriesOf,
  entrySeqs,
  inReaderOrder,
  lastCommandSeqOf,
  lastMarkOf,
  readCommands,
  readEvents,
  referenceFromLog,
  venueFixture,
} from "../support/venue-fixture.ts";

const COMMANDS = 100_000;

function expectSameEvents(
  stored: Awaited<ReturnType<typeof readEvents>>,
  reference: ReturnType<typeof referenceFromLog>,
) {
  const ids = stored.map((e) => e.msgId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toEqual(reference.events.map((e) => e.msgId));
  expect(Buffer.concat(stored.map((e) => e.bytes)).equals(Buffer.concat(reference.events.map((e) => e.bytes)))).toBe(
    true,
  );
}

describe("engine crash recovery (SIGKILL) on a real nats-server", () => {
  let server: NatsServer;

  beforeAll(async () => {
    server = await NatsServer.start();
  });

  afterAll(async () => {
    await EngineProcess.killAll();
    await server?.dispose();
  });

  it(`publishes exactly the uninterrupted run's events after SIGKILLs at random points of ${COMMANDS} commands`, async () => {
    const venue = "crash";
    const fixture = await venueFixture(server.url, venue);
    const engine = new EngineProcess({
      natsUrl: server.url,
      venue,
      instanceId: "engine-a",
      instruments: testInstrumentSettings,
      env: { TP_SNAPSHOT_EVERY_COMMANDS: "7000", TP_LEASE_TTL_MS: "300" },
    });
    await engine.start();
    const seqs = entrySeqs();
    const appender = backgroundAppender(fixture.js, venue, commandStream(COMMANDS, 42, seqs));
    const rnd = prng(2026);
    const killPoints = [0.15, 0.4, 0.7].map((f) => seqs(Math.floor(COMMANDS * (f + rnd() * 0.1))));
    for (const point of killPoints) {
      await engine.waitForSeq(point, 120_000);
      await engine.signal("SIGKILL");
      await engine.start();
    }
    await appender.done;
    const log = await readCommands(fixture.nc, venue);
    const reference = referenceFromLog(log);
    await engine.waitForMark(lastMarkOf(reference.events), 120_000);
    expectSameEvents(await readEvents(fixture.nc, venue), reference);
    expect((await engine.ops<{ digest: string }>("/digest")).digest).toBe(reference.digest);
    expect(engine.log).toContain("snapshot loaded");
    await engine.signal("SIGTERM");
    await fixture.nc.close();
  });

  it("restores fences and kill-switch blocks (ADR 0003) from its snapshots: the same events and digest after SIGKILLs", async () => {
    const venue = "crashfence";
    const fixture = await venueFixture(server.url, venue);
    const engine = new EngineProcess({
      natsUrl: server.url,
      venue,
      instanceId: "engine-f",
      instruments: testInstrumentSettings,
      env: { TP_SNAPSHOT_EVERY_COMMANDS: "2000", TP_LEASE_TTL_MS: "300" },
    });
    await engine.start();
    const count = 20_000;
    const seqs = entrySeqs();
    // Some commands become fences and blocks (in place, so later commands' targets stay where
    // they were), and every command carries an owner epoch around its account's fences.
    const commands = commandStream(count, 77, seqs).map((c, i): Command => {
      const epoch = 1 + Math.floor(i / 3_000);
      if (i % 97 === 0) return { ...c, ownerEpoch: epoch, body: { $case: "fenceAccount", value: { epoch } } };
      if (i % 389 === 0)
        return {
          ...c,
          body: { $case: "blockAccount", value: { blocked: i % 2 === 0, allAccounts: i % 3 === 0, reason: "t" } },
        };
      return { ...c, ownerEpoch: epoch - (i % 6 === 0 ? 1 : 0) };
    });
    const appender = backgroundAppender(fixture.js, venue, commands);
    for (const f of [0.35, 0.7]) {
      await engine.waitForSeq(seqs(Math.floor(count * f)), 120_000);
      await engine.signal("SIGKILL");
      await engine.start();
    }
    await appender.done;
    const reference = referenceFromLog(await readCommands(fixture.nc, venue));
    const reasons = reference.events
      .flatMap((m) => m.events)
      .flatMap((e) => (e.body?.$case === "rejected" ? [e.body.value.reason] : []));
    expect(reasons).toContain(RejectReason.FENCED);
    expect(reasons).toContain(RejectReason.KILL_SWITCH);
    await engine.waitForMark(lastMarkOf(reference.events), 120_000);
    expectSameEvents(await readEvents(fixture.nc, venue), reference);
    expect((await engine.ops<{ digest: string }>("/digest")).digest).toBe(reference.digest);
    expect(engine.log).toContain("snapshot loaded");
    await engine.signal("SIGTERM");
    await fixture.nc.close();
  });

  it("falls back to an older snapshot, or a full replay, when the newest is corrupt", async () => {
    const venue = "corrupt";
    const fixture = await venueFixture(server.url, venue);
    const engine = new EngineProcess({
      natsUrl: server.url,
      venue,
      instanceId: "engine-a",
      instruments: testInstrumentSettings,
      env: { TP_SNAPSHOT_EVERY_COMMANDS: "1000", TP_LEASE_TTL_MS: "300" },
    });
    await engine.start();
    const appender = backgroundAppender(fixture.js, venue, commandStream(5_000, 5, entrySeqs()));
    await appender.done;
    const last = lastCommandSeqOf(await readCommands(fixture.nc, venue));
    await engine.waitForSeq(last);
    await engine.signal("SIGKILL");
    // Overwrite every stored snapshot's bytes with garbage of the same name.
    const { Objm } = await import("@nats-io/obj");
    const store = await new Objm(fixture.nc).open(`tp_${venue}_snapshots`);
    const infos = (await store.list()).filter((i) => !i.deleted);
    expect(infos.length).toBeGreaterThan(0);
    await store.putBlob(
      { name: infos.sort((a, b) => b.name.localeCompare(a.name))[0]!.name },
      new Uint8Array([1, 2, 3]),
    );
    await engine.start();
    const reference = referenceFromLog(await readCommands(fixture.nc, venue));
    // The first engine was killed once it had applied the log, maybe before all its events were
    // stored: the restarted one publishes the rest after replaying, so wait for its published mark.
    await engine.waitForMark(lastMarkOf(reference.events));
    expect(engine.log).toContain("snapshot unusable");
    const metrics = await (await fetch(`http://127.0.0.1:${engine.opsPort}/metrics`)).text();
    expect(metrics).toMatch(/tp_engine_snapshot_load_failures_total\{[^}]*\} 1/);
    expect(metrics).toMatch(
      new RegExp(`tp_engine_published_command_seq\\{[^}]*\\} ${lastMarkOf(reference.events).cmdSeq}\n`),
    );
    expectSameEvents(await readEvents(fixture.nc, venue), reference);
    expect((await engine.ops<{ digest: string }>("/digest")).digest).toBe(reference.digest);
    await engine.signal("SIGTERM");
    await fixture.nc.close();
  });

  it("loses no command and duplicates no event when nats-server restarts under load", async () => {
    const venue = "natsrestart";
    const fixture = await venueFixture(server.url, venue);
    const engine = new EngineProcess({
      natsUrl: server.url,
      venue,
      instanceId: "engine-a",
      instruments: testInstrumentSettings,
      env: { TP_SNAPSHOT_EVERY_COMMANDS: "5000", TP_LEASE_TTL_MS: "1500" },
    });
    await engine.start();
    const commands = commandStream(40_000, 11, entrySeqs());
    const appender = backgroundAppender(fixture.js, venue, commands);
    while (appender.acked < 5_000) await new Promise((r) => setTimeout(r, 5));
    await server.restart();
    await appender.done;
    await waitForJetStream(fixture.nc);
    expect(appender.acked).toBe(commands.length);
    const log = await readCommands(fixture.nc, venue);
    expect(log.length).toBe(entriesOf(commands).length);
    const reference = referenceFromLog(log);
    await engine.waitForSeq(lastCommandSeqOf(log), 120_000);
    // Events may land out of order while NATS restarts: the mark waits for the acknowledged
    // prefix, and readers apply them in order.
    await engine.waitForMark(lastMarkOf(reference.events), 120_000);
    const stored = await readEvents(fixture.nc, venue);
    const ids = stored.map((e) => e.msgId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(inReaderOrder(stored).map((e) => e.msgId)).toEqual(reference.events.map((e) => e.msgId));
    expect((await engine.ops<{ digest: string }>("/digest")).digest).toBe(reference.digest);
    await engine.signal("SIGTERM");
    await fixture.nc.close();
  });
});
