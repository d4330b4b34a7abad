import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { freePort } from "@tradeplane/testkit";

/**
 * `npm start | tee log`, then Ctrl-C: the terminal's SIGINT reaches `up` and `tee` alike, so
 * `up` stops with the reader of its output gone. It must still stop the whole venue, its
 * nats-server (in a process group of its own) included. The venue here has three partitions,
 * and `tradeplane status` shows every partition's engine.
 */
const BIN = fileURLToPath(new URL("../../bin/tradeplane.mjs", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../../../../examples/venue.yaml", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tp-pipe-"));
const manifest = join(dir, "venue.yaml");
let natsPid: number | undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => {
  if (natsPid !== undefined && alive(natsPid)) process.kill(natsPid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("tradeplane up with its output piped", () => {
  it("stops every process, nats-server included, when Ctrl-C also ends the reader of its output", async () => {
    const venue = parse(readFileSync(EXAMPLE, "utf8")) as { spec: { instruments: { partition?: number }[] } };
    venue.spec.instruments.forEach((i, n) => (i.partition = n % 3));
    writeFileSync(manifest, stringify(venue));
    const portBase = await freePort();
    const child = spawn(
      process.execPath,
      [BIN, "--data-dir", dir, "up", "--headless", "-f", manifest, "--port-base", String(portBase)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("is up")) resolve();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      void exited.then((code) => reject(new Error(`up exited ${code} before the venue was up:\n${output}`)));
    });
    natsPid = (JSON.parse(readFileSync(join(dir, "local.json"), "utf8")) as { natsPid?: number }).natsPid;
    expect(natsPid).toBeGreaterThan(0);

    const status = await new Promise<{ replicas: { partition: number }[] }>((resolve, reject) =>
      execFile(process.execPath, [BIN, "--data-dir", dir, "--json", "status"], (err, stdout) =>
        err ? reject(err) : resolve(JSON.parse(stdout) as { replicas: { partition: number }[] }),
      ),
    );
    expect(status.replicas.map((r) => r.partition)).toEqual([0, 1, 2]);

    // The reader goes (tee ended by the same Ctrl-C), then the signal.
    child.stdout.destroy();
    child.kill("SIGINT");
    expect(await exited, output).toBe(0);
    for (let i = 0; i < 100 && alive(natsPid!); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(natsPid!)).toBe(false);
  });
});
