import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Supervisor } from "../../src/local/supervisor.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-supervisor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fast = { initialMs: 20, maxMs: 80, healthyAfterMs: 10_000 };

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

function logOf(name: string): string {
  try {
    return readFileSync(join(dir, `${name}.log`), "utf8");
  } catch {
    return ""; // not created yet
  }
}

describe("Supervisor", () => {
  it("restarts a crashing child with growing delays, and logs to its file and to onLine", async () => {
    const crashes: number[] = [];
    const lines: string[] = [];
    const supervisor = new Supervisor(
      {
        onCrash: (_name, _code, _signal, delayMs) => crashes.push(delayMs),
        onLine: (name, line) => lines.push(`${name}: ${line}`),
      },
      fast,
    );
    supervisor.start({
      name: "crasher",
      command: process.execPath,
      args: ["-e", 'console.log(JSON.stringify({level:"info",time:0,msg:"hello"})); process.exit(3)'],
      logFile: join(dir, "crasher.log"),
    });
    await until(() => crashes.length >= 4);
    await supervisor.stop();
    expect(crashes.slice(0, 4)).toEqual([20, 40, 80, 80]);
    expect(supervisor.status()[0]!.restarts).toBeGreaterThanOrEqual(3);
    expect(lines[0]).toBe("crasher: 00:00:00.000 INFO  hello");
    const log = readFileSync(join(dir, "crasher.log"), "utf8");
    expect(log).toContain('"msg":"hello"');
    expect(log).toContain("--- supervisor: exited (code 3, signal null); restarting in 20 ms");
  });

  it("stops children newest first with SIGTERM and does not restart them", async () => {
    const order: string[] = [];
    const supervisor = new Supervisor({ onCrash: (name) => order.push(`crash ${name}`) }, fast);
    for (const name of ["first", "second"])
      supervisor.start({
        name,
        command: process.execPath,
        args: [
          "-e",
          `process.on("SIGTERM", () => { console.log("bye"); process.exit(0); }); setInterval(() => {}, 1000); console.log("up");`,
        ],
        logFile: join(dir, `${name}.log`),
      });
    await until(() => logOf("first").includes("up") && logOf("second").includes("up"));
    await supervisor.stop();
    expect(order).toEqual([]);
    expect(supervisor.status().map((s) => s.running)).toEqual([false, false]);
    expect(readFileSync(join(dir, "first.log"), "utf8")).toContain("bye");
  });
});
