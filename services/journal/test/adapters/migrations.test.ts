import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { migrate, readMigrations } from "../../src/adapters/migrations.ts";
import { openPgliteStore } from "../../src/adapters/pglite-store.ts";

describe("migrations", () => {
  it("applies each migration once, however often the journal starts", async () => {
    const store = await openPgliteStore(undefined);
    const migrations = await readMigrations();
    expect(migrations.map((m) => m.version)).toEqual([1, 2, 3]);
    expect(await migrate(store, migrations)).toEqual([1, 2, 3]);
    expect(await migrate(store, migrations)).toEqual([]);
    expect(await store.query("SELECT version, name FROM schema_migrations ORDER BY version")).toEqual([
      { version: 1, name: "journal" },
      { version: 2, name: "day_indexes" },
      { version: 3, name: "instrument_terms" },
    ]);
    await store.close();
  });

  it.each([
    ["a file not named NNNN_name.sql", ["0001_a.sql", "notes.txt"], /named NNNN_name.sql/],
    ["a version used twice", ["0001_a.sql", "0001_b.sql"], /version 1 used twice/],
  ])("refuses a folder with %s", async (_name, files, error) => {
    const dir = await mkdtemp(join(tmpdir(), "journal-migrations-"));
    for (const f of files) await writeFile(join(dir, f), "SELECT 1;");
    await expect(readMigrations(dir)).rejects.toThrow(error);
    await rm(dir, { recursive: true });
  });
});
