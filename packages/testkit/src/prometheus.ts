import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary } from "./binaries.ts";
import { freePort } from "./free-port.ts";
import { reapOnExit } from "./child-reaper.ts";

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;

/** One static scrape target: its address (host:port) and the labels it gets. */
export interface ScrapeTarget {
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PrometheusOptions {
  /** Static targets of one job, "tradeplane" (none: no such job). */
  readonly targets: readonly ScrapeTarget[];
  /**
   * Further scrape jobs as Prometheus's config holds them (snake_case keys), e.g. the job
   * prometheus-operator makes of a PodMonitor; their scrape interval is the server's.
   */
  readonly scrapeConfigs?: readonly Readonly<Record<string, unknown>>[];
  /** Scrape and rule-evaluation interval; short, so a test sees data within seconds. */
  readonly intervalSeconds?: number;
  /** Rule files (absolute paths) Prometheus loads and evaluates. */
  readonly ruleFiles?: readonly string[];
}

/** A scrape target as Prometheus's HTTP API lists it. */
export interface ActiveTarget {
  readonly scrapeUrl: string;
  readonly health: string;
  readonly lastError: string;
  /** The target's labels after relabeling (those every series it serves gets). */
  readonly labels: Readonly<Record<string, string>>;
}

/** What Prometheus's HTTP API answers for an instant query. */
export interface QueryResult {
  readonly status: "success" | "error";
  readonly error?: string;
  readonly data?: { readonly resultType: string; readonly result: readonly unknown[] };
}

/**
 * A real `prometheus` server on loopback, scraping static targets from a config in a temp
 * folder with its own TSDB; found like every binary (tools folder, then PATH). Used to run
 * dashboard and alert queries against what a live venue exposes.
 */
export class PrometheusServer {
  private child: ChildProcess | undefined;
  private output = "";

  readonly port: number;
  readonly dir: string;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  static async start(options: PrometheusOptions): Promise<PrometheusServer> {
    const binary = findBinary("prometheus");
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), "tradeplane-prometheus-"));
    const interval = `${options.intervalSeconds ?? 1}s`;
    const config = {
      global: { scrape_interval: interval, evaluation_interval: interval },
      rule_files: options.ruleFiles ?? [],
      scrape_configs: [
        ...(options.targets.length === 0
          ? []
          : [
              {
                job_name: "tradeplane",
                static_configs: options.targets.map((t) => ({ targets: [t.address], labels: t.labels })),
              },
            ]),
        ...(options.scrapeConfigs ?? []),
      ],
    };
    // JSON is YAML: no YAML writer needed for a config Prometheus reads once.
    await writeFile(join(dir, "prometheus.yml"), JSON.stringify(config, null, 2));
    const server = new PrometheusServer(port, dir);
    server.launch(binary);
    await server.waitReady();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get recentOutput(): string {
    return this.output;
  }

  private launch(binary: string): void {
    const child = spawn(
      binary,
      [
        `--config.file=${join(this.dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(this.dir, "data")}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        "--web.enable-lifecycle",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    reapOnExit(child);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    this.child = child;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (this.child?.exitCode !== null) throw new Error(`prometheus exited at start:\n${this.output}`);
      try {
        const res = await fetch(`${this.url}/-/ready`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus was not ready in ${READY_TIMEOUT_MS} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Runs an instant query through the HTTP API; a PromQL error comes back as status "error". */
  async query(expr: string): Promise<QueryResult> {
    const res = await fetch(`${this.url}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ query: expr }).toString(),
    });
    return (await res.json()) as QueryResult;
  }

  /** The health of every scrape target, as Prometheus last saw it, with its labels after relabeling. */
  async targets(): Promise<ActiveTarget[]> {
    const res = await fetch(`${this.url}/api/v1/targets`);
    const body = (await res.json()) as { data: { activeTargets: ActiveTarget[] } };
    return body.data.activeTargets;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      });
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
