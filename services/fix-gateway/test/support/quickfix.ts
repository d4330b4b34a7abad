// The QuickFIX (C++) initiator of test/integration/quickfix/initiator.cpp: compiled once
// per run against Debian's libquickfix-dev, started per session with its own settings and
// FileStore, driven through stdin, its received messages parsed into field maps.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { findBinary } from "@tradeplane/testkit";
import type { Fields } from "./session-harness.ts";

const SOURCE = fileURLToPath(new URL("../integration/quickfix/initiator.cpp", import.meta.url));

/** Compiles the initiator; fails loudly (never skips) without g++ or QuickFIX's headers. */
export function buildInitiator(dir: string): string {
  const gxx = findBinary("g++");
  if (!existsSync("/usr/include/quickfix/Application.h"))
    throw new Error("QuickFIX headers are missing: run `npm run setup` (installs Debian's libquickfix-dev)");
  const out = join(dir, "initiator");
  // QuickFIX 1.15's headers use dynamic exception specifications: C++14 at the latest.
  const r = spawnSync(gxx, ["-std=c++14", "-O1", "-Wno-deprecated", "-o", out, SOURCE, "-lquickfix", "-lpthread"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`g++ failed:\n${r.stderr}`);
  return out;
}

function fieldsOf(text: string): Fields {
  const f: Fields = {};
  for (const part of text.split("|")) {
    const eq = part.indexOf("=");
    if (eq > 0 && !(Number(part.slice(0, eq)) in f)) f[Number(part.slice(0, eq))] = part.slice(eq + 1);
  }
  return f;
}

export class QuickFixInitiator {
  readonly received: Fields[] = [];
  readonly sent: Fields[] = [];
  logons = 0;
  logouts = 0;
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private exited = false;

  constructor(binary: string, opts: { port: number; senderCompId: string; targetCompId: string; storeDir?: string }) {
    const dir = opts.storeDir ?? mkdtempSync(join(tmpdir(), "quickfix-"));
    mkdirSync(join(dir, "store"), { recursive: true });
    mkdirSync(join(dir, "log"), { recursive: true });
    const settings = join(dir, "initiator.cfg");
    writeFileSync(
      settings,
      [
        "[DEFAULT]",
        "ConnectionType=initiator",
        "ReconnectInterval=1",
        `FileStorePath=${join(dir, "store")}`,
        `FileLogPath=${join(dir, "log")}`,
        "StartTime=00:00:00",
        "EndTime=00:00:00",
        "UseDataDictionary=N",
        "HeartBtInt=30",
        "SocketConnectHost=127.0.0.1",
        `SocketConnectPort=${opts.port}`,
        "",
        "[SESSION]",
        "BeginString=FIX.4.4",
        `SenderCompID=${opts.senderCompId}`,
        `TargetCompID=${opts.targetCompId}`,
        "",
      ].join("\n"),
    );
    this.child = spawn(binary, [settings], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.on("exit", () => (this.exited = true));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      this.lines.push(line);
      if (line === "LOGON") this.logons++;
      else if (line === "LOGOUT") this.logouts++;
      else if (line.startsWith("IN ")) this.received.push(fieldsOf(line.slice(3)));
      else if (line.startsWith("OUT ")) this.sent.push(fieldsOf(line.slice(4)));
    });
    this.child.stderr!.on("data", (d: Buffer) => this.lines.push(`STDERR ${d.toString()}`));
  }

  /** Sends an application message: "35=D|11=...|..." (QuickFIX writes the header). */
  send(fields: string): void {
    this.child.stdin!.write(`SEND ${fields}\n`);
  }

  async waitFor<T>(pred: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = pred();
      if (hit) return hit;
      if (this.exited || Date.now() > deadline)
        throw new Error(
          `${this.exited ? "initiator exited" : "timed out"} waiting for ${what}; output:\n${this.lines.join("\n")}`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The first received message from index `from` on that matches. */
  message(pred: (f: Fields) => boolean, what: string, from = 0): Promise<Fields> {
    return this.waitFor(() => this.received.slice(from).find(pred), what);
  }

  async quit(): Promise<void> {
    this.child.stdin!.write("QUIT\n");
    await this.waitFor(() => this.exited, "the initiator to exit");
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}
