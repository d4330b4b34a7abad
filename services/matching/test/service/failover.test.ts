import { afterAll, describe, expect, it } from "vitest";
import { NatsCluster, NatsServer } from "@tradeplane/testkit";
import { commandStream, testInstrumentSettings } from "@tradeplane/testkit";
import { EngineProcess } from "../support/engine-process.ts";
import {
  backgroundAppender,
  entriesOf,
  entrySeqs,
  inReaderOrder,
  lastMarkOf,
  readCommands,
  readEvents,
  referenceFromLog,
  venueFixture,
} from "../support/venue-fixture.ts";

interface Status {
  role: "primary" | "standby";
  lastCommandSeq: number;
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("primary and hot standby", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await EngineProcess.killAll();
    for (const c of cleanups.reverse()) await c();
  });

  it("hands over to the standby when the primary dies: the event stream stays gap-free and duplicate-free", async () => {
    const server = await NatsServer.start();
    cleanups.push(() => server.dispose());
    const venue = "failover";
    const fixture = await venueFixture(server.url, venue);
    cleanups.push(() => fixture.nc.close());
    const engine = (id: string) =>
      new EngineProcess({
        natsUrl: server.url,
        venue,
        instanceId: id,
        instruments: testInstrumentSettings,
        env: { TP_LEASE_TTL_MS: "600", TP_SNAPSHOT_EVERY_COMMANDS: "4000" },
      });
    const a = engine("engine-a");
    await a.start();
    await waitFor(async () => (await a.ops<Status>("/status")).role === "primary", "engine-a to lead");
    const b = engine("engine-b");
    await b.start();
    cleanups.push(() => b.signal("SIGTERM"));
    expect((await b.ops<Status>("/status")).role).toBe("standby");

    const seqs = entrySeqs();
    const appender = backgroundAppender(fixture.js, venue, commandStream(30_000, 3, seqs));
    await a.waitForSeq(seqs(10_000), 60_000);
    const killedAt = Date.now();
    await a.signal("SIGKILL");
    await waitFor(async () => (await b.ops<Status>("/status")).role === "primary", "engine-b to take over");
    const takeoverMs = Date.now() - killedAt;
    process.stderr.write(`standby took over ${takeoverMs} ms after SIGKILL (lease ttl 600 ms)\n`);
    await appender.done;
    const log = await readCommands(fixture.nc, venue);
    const reference = referenceFromLog(log);
    await b.waitForMark(lastMarkOf(reference.events), 60_000);
    const stored = await readEvents(fixture.nc, venue);
    expect(stored.map((e) => e.msgId)).toEqual(reference.events.map((e) => e.msgId));
    expect((await b.ops<{ digest: string }>("/digest")).digest).toBe(reference.digest);
  });

  it("keeps every acknowledged command and event when one server of a three-node cluster stops", async () => {
    const cluster = await NatsCluster.start(3);
    cleanups.push(() => cluster.dispose());
    const venue = "replicated";
    const fixture = await venueFixture(cluster.urls, venue, 3);
    cleanups.push(() => fixture.nc.close());
    const e = new EngineProcess({
      natsUrl: cluster.urls,
      venue,
      instanceId: "engine-a",
      instruments: testInstrumentSettings,
      env: { TP_LEASE_TTL_MS: "3000", TP_SNAPSHOT_EVERY_COMMANDS: "4000" },
    });
    await e.start();
    cleanups.push(() => e.signal("SIGTERM"));
    const seqs = entrySeqs();
    const commands = commandStream(15_000, 9, seqs);
    const appender = backgroundAppender(fixture.js, venue, commands);
    await e.waitForSeq(seqs(4_000), 60_000);
    await cluster.servers[1]!.stop();
    await appender.done;
    await cluster.waitForJetStream();
    expect(appender.acked).toBe(commands.length);
    const log = await readCommands(fixture.nc, venue);
    expect(log.length).toBe(entriesOf(commands).length);
    const reference = referenceFromLog(log);
    await e.waitForMark(lastMarkOf(reference.events), 45_000);
    const stored = await readEvents(fixture.nc, venue);
    const ids = stored.map((x) => x.msgId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(inReaderOrder(stored).map((x) => x.msgId)).toEqual(reference.events.map((x) => x.msgId));
    expect((await e.ops<{ digest: string }>("/digest")).digest).toBe(reference.digest);
  });
});
