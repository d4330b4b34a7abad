import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPostgresBinDir, MissingBinaryError, PostgresServer } from "../../src/index.ts";

/** psql from the server's own bin folder; the password through PGPASSWORD, never argv. */
function psql(server: PostgresServer, password: string, sql: string) {
  const url = new URL(server.url());
  return spawnSync(
    join(findPostgresBinDir(), "psql"),
    ["-h", "127.0.0.1", "-p", String(server.port), "-U", "postgres", "-d", "postgres", "-tAc", sql],
    { encoding: "utf8", env: { ...process.env, PGPASSWORD: password || decodeURIComponent(url.password) } },
  );
}

describe("PostgresServer", () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await PostgresServer.start({ durable: false });
  }, 60_000);
  afterAll(() => server?.dispose());

  it("accepts the superuser with the password in its URL, over TCP on loopback", () => {
    const r = psql(server, "", "SELECT 40 + 2");
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("42");
  });

  it("refuses a wrong password", () => {
    const r = psql(server, "not-the-password", "SELECT 1");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/password authentication failed/);
  });

  it("removes its cluster when disposed", async () => {
    const other = await PostgresServer.start({ durable: false });
    expect(existsSync(join(other.dir, "data", "PG_VERSION"))).toBe(true);
    await other.dispose();
    expect(other.running).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
  });

  it("fails loudly, naming the fix, when the binaries are missing", () => {
    expect(() => findPostgresBinDir({ POSTGRES_BIN_DIR: "/nonexistent" })).toThrow(MissingBinaryError);
    expect(() => findPostgresBinDir({ POSTGRES_BIN_DIR: "/nonexistent" })).toThrow(/apt-get install postgresql/);
  });
});
