import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_BATCH_MESSAGES, DEFAULT_GRPC_PORT, loadJournalConfig } from "../src/config.ts";

const URL = "postgres://journal:secret-password@db:5432/journal";

describe("loadJournalConfig", () => {
  it("takes the database URL from the environment, as a secret", () => {
    const config = loadJournalConfig({ env: { TP_VENUE: "spot", TP_DATABASE_URL: URL } });
    expect(config).toMatchObject({ venue: "spot", databaseUrl: URL, batchMessages: DEFAULT_BATCH_MESSAGES });
  });

  it("reads the database URL from the file TP_DATABASE_URL_FILE names (a Secret volume)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "journal-config-"));
    await writeFile(join(dir, "url"), `${URL}\n`);
    const config = loadJournalConfig({ env: { TP_VENUE: "spot", TP_DATABASE_URL_FILE: join(dir, "url") } });
    expect(config.databaseUrl).toBe(URL);
    await rm(dir, { recursive: true });
  });

  it("takes an embedded PGlite folder instead", () => {
    expect(loadJournalConfig({ env: { TP_VENUE: "spot", TP_PGLITE_DIR: "/data/journal" } }).pgliteDir).toBe(
      "/data/journal",
    );
  });

  it.each([
    ["neither a database URL nor a PGlite folder", { TP_VENUE: "spot" }],
    ["both a database URL and a PGlite folder", { TP_VENUE: "spot", TP_DATABASE_URL: URL, TP_PGLITE_DIR: "/d" }],
    ["a venue that is no DNS label", { TP_VENUE: "Spot!", TP_DATABASE_URL: URL }],
    ["a batch of 0 messages", { TP_VENUE: "spot", TP_DATABASE_URL: URL, TP_BATCH_MESSAGES: "0" }],
    ["a pool of 0 connections", { TP_VENUE: "spot", TP_DATABASE_URL: URL, TP_POOL_SIZE: "0" }],
  ])("refuses %s", (_name, env) => {
    expect(() => loadJournalConfig({ env })).toThrow();
  });

  it("defaults to an IST, T+1 calendar and the JournalQuery port", () => {
    const config = loadJournalConfig({ env: { TP_VENUE: "spot", TP_PGLITE_DIR: "/data/journal" } });
    expect(config.calendar).toEqual({
      timeZone: "Asia/Kolkata",
      tradingDayEnd: "24:00",
      weekendDays: ["Sat", "Sun"],
      holidays: [],
      settlementDays: 1,
    });
    expect(config).toMatchObject({ grpcPort: DEFAULT_GRPC_PORT, poolSize: 4, instruments: [] });
  });

  it("refuses a time zone the runtime does not know", async () => {
    const dir = await mkdtemp(join(tmpdir(), "journal-config-"));
    await writeFile(
      join(dir, "c.json"),
      JSON.stringify({ venue: "spot", pgliteDir: "", calendar: { timeZone: "Mars/Olympus" } }),
    );
    expect(() => loadJournalConfig({ env: { TP_CONFIG_FILE: join(dir, "c.json") } })).toThrow(/calendar.timeZone/);
    await rm(dir, { recursive: true });
  });

  it("never shows the database URL in its error messages", () => {
    let message = "";
    try {
      loadJournalConfig({ env: { TP_VENUE: "spot", TP_DATABASE_URL: URL, TP_PGLITE_DIR: "/d" } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toContain("secret-password");
  });
});
