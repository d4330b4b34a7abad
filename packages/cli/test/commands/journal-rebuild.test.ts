import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandBatch, commandSubject } from "@tradeplane/contracts";
import { openPgliteStore } from "@tradeplane/journal/stores";
import { ensureLogFormat, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { commandStream, connectTo, NatsServer } from "@tradeplane/testkit";
import { CliError, EXIT } from "../../src/errors.ts";
import { rebuildSettings } from "../../src/commands/journal-rebuild.ts";
import type { JournalRebuildFlags } from "../../src/commands/journal-rebuild-options.ts";
import { runCli } from "../run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-journal-rebuild-"));
const base: JournalRebuildFlags = { projector: "journal", batch: "2048" };
const urlFile = join(dir, "database-url");
writeFileSync(urlFile, "postgres://journal:secret@db:5432/journal\n");

describe("journal rebuild: flags", () => {
  it.each<[string, Partial<JournalRebuildFlags>, NodeJS.ProcessEnv, RegExp]>([
    ["no database", {}, {}, /name the journal's database/],
    ["two databases", { databaseUrlFile: urlFile, pgliteDir: dir }, {}, /give one database/],
    [
      "a URL in the environment and a PGlite folder",
      { pgliteDir: dir },
      { TP_DATABASE_URL: "postgres://x" },
      /not both/,
    ],
    ["an unreadable URL file", { databaseUrlFile: join(dir, "missing") }, {}, /--database-url-file .*missing/],
    ["a URL that is not PostgreSQL's", {}, { TP_DATABASE_URL: "mysql://db" }, /postgres:\/\//],
    ["a batch of 0", { batch: "0", pgliteDir: dir }, {}, /--batch 0: give a whole number/],
    ["a batch of 1.5", { batch: "1.5", pgliteDir: dir }, {}, /--batch 1.5/],
    ["a projector name with capitals", { projector: "Journal", pgliteDir: dir }, {}, /--projector Journal/],
    ["--nats-url without --venue-file", { natsUrl: "nats://x:4222", pgliteDir: dir }, {}, /needs --venue-file/],
  ])("refuses %s as bad usage", (_name, flags, env, message) => {
    let thrown: unknown;
    try {
      rebuildSettings({ ...base, ...flags }, env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CliError);
    expect((thrown as CliError).exitCode).toBe(EXIT.USAGE);
    expect((thrown as CliError).message).toMatch(message);
  });

  it.each<[string, Partial<JournalRebuildFlags>, NodeJS.ProcessEnv, object]>([
    ["a URL file", { databaseUrlFile: urlFile }, {}, { url: "postgres://journal:secret@db:5432/journal" }],
    ["TP_DATABASE_URL", {}, { TP_DATABASE_URL: "postgresql://db/j" }, { url: "postgresql://db/j" }],
    [
      "TP_DATABASE_URL_FILE",
      {},
      { TP_DATABASE_URL_FILE: urlFile },
      { url: "postgres://journal:secret@db:5432/journal" },
    ],
    ["a PGlite folder", { pgliteDir: dir }, {}, { pgliteDir: dir }],
  ])("takes the database from %s", (_name, flags, env, database) => {
    expect(rebuildSettings({ ...base, ...flags }, env)).toEqual({
      database,
      projector: "journal",
      batchMessages: 2048,
    });
  });
});

describe("tradeplane journal rebuild", () => {
  const VENUE = "clirebuild";
  let nats: NatsServer;
  let nc: NatsConnection;
  const venueFile = (instruments: string): string => {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      `apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata: { name: ${VENUE} }
spec:
  market: { currency: INR, notionalExponent: -2 }
  instruments:
${instruments}
`,
    );
    return file;
  };
  const both = venueFile(
    "    - { symbol: INFY, partition: 0, tickSize: 1, referencePrice: 100000, priceBandPercent: 10 }\n" +
      "    - { symbol: TCS, partition: 1, tickSize: 1, referencePrice: 100000, priceBandPercent: 10 }",
  );
  const onlyFirst = venueFile(
    "    - { symbol: INFY, partition: 0, tickSize: 1, referencePrice: 100000, priceBandPercent: 10 }",
  );

  const cli = (...args: string[]) => runCli("--data-dir", dir, ...args);

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connectTo(nats.url);
    await provision(nc, venueProvisioningPlan({ venue: VENUE, storage: "memory" }));
    await ensureLogFormat(nc, VENUE);
    // Each command its own entry, alternating partitions: entry k holds command k of the flow.
    const js = jetstream(nc);
    const commands = commandStream(400, 3, (i) => (i + 1) * 1000);
    for (const [i, command] of commands.entries()) {
      const body = command.body?.value as { instrument?: string } | undefined;
      const p = body?.instrument === "TCS" ? 1 : 0;
      await js.publish(commandSubject(VENUE, p), CommandBatch.encode({ commands: [command] }).finish(), {
        expect: { lastSequence: i },
      });
    }
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it("rebuilds a PGlite journal from the command log, with progress lines when not on a terminal", async () => {
    const pgliteDir = join(dir, "pglite");
    const run = await cli(
      "journal",
      "rebuild",
      "--venue-file",
      both,
      "--nats-url",
      nats.url,
      "--pglite-dir",
      pgliteDir,
    );
    expect(run.stderr).toMatch(/^journal rebuild: replay 100% \(400\/400 log entries, \d+ events\)$/m);
    expect(run.stdout).toMatch(/^journal rebuilt in [\d.]+ s from 400 log entries \(400 commands\)/);
    expect(run.code).toBe(0);
    const store = await openPgliteStore(pgliteDir);
    const [row] = await store.query<{ trades: number; orders: number }>(
      "SELECT (SELECT count(*) FROM trades)::int8 trades, (SELECT count(*) FROM orders)::int8 orders",
    );
    await store.close();
    expect(row!.trades).toBeGreaterThan(10);
    expect(row!.orders).toBeGreaterThan(100);
  }, 120_000);

  it("says why it refuses, and exits 1", async () => {
    const run = await cli(
      "--json",
      "journal",
      "rebuild",
      "--venue-file",
      onlyFirst,
      "--nats-url",
      nats.url,
      "--pglite-dir",
      join(dir, "refused"),
    );
    expect(run.stderr).toMatch(/rebuild refused \(UNKNOWN_PARTITION\): .* the tables are unchanged/);
    expect(run.code).toBe(EXIT.REFUSED);
  }, 120_000);

  it("names a bad flag", async () => {
    const run = await cli("journal", "rebuild", "--pglite-dir", dir, "--batch", "x");
    expect(run.stderr).toMatch(/--batch x: give a whole number/);
    expect(run.code).toBe(EXIT.USAGE);
  });
});
