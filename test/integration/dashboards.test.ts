import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata } from "@grpc/grpc-js";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  MarketDataChannel,
  MarketDataClient,
  OrderEntryClient,
  OrderType,
  Side,
  TimeInForce,
  type SubmitOrderRequest,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { engineServiceConfig, marketDataConfig, riskGatewayConfig } from "@tradeplane/operator/service-configs";
import { connectTo, findBinary, freePort, NatsServer, REPO_ROOT, ServiceProcess, unary } from "@tradeplane/testkit";
import { CHART_DIR } from "../support/chart.ts";
import { exampleVenue, freeServicePorts, provisionVenue } from "../support/container-venue.ts";

/**
 * The dashboards and alerts against a real Prometheus: it scrapes a local venue (nats-server,
 * engine, risk gateway and market data as processes) that has traded, rejected and streamed
 * market data, and every dashboard panel's query and every alert's expression is run through
 * its HTTP API. No query errors, and every panel's query returns data.
 */

type Panel = { title: string; targets: { expr: string }[] };
const dashboards = readdirSync(join(CHART_DIR, "dashboards"))
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({
    file: f,
    ...(JSON.parse(readFileSync(join(CHART_DIR, "dashboards", f), "utf8")) as { panels: Panel[] }),
  }));
const panelQueries = dashboards.flatMap((d) =>
  d.panels.flatMap((p) => p.targets.map((t) => [`${d.file}: ${p.title}`, t.expr] as const)),
);
const RULES_DIR = join(CHART_DIR, "files", "prometheus-rules");
const alertExprs = readdirSync(RULES_DIR).flatMap((f) =>
  (
    parseYaml(readFileSync(join(RULES_DIR, f), "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] }
  ).groups
    .flatMap((g) => g.rules)
    .map((r) => [r.alert, r.expr] as const),
);

/** Grafana's variables as a dashboard with "All" selected would send them. */
function asGrafanaSends(expr: string): string {
  return expr.replaceAll("$venue", ".*").replaceAll("$__rate_interval", "1m");
}

const venue = exampleVenue();
const services: ServiceProcess[] = [];
let server: NatsServer;
let nc: NatsConnection;
let prometheus: ChildProcess;
let prometheusUrl = "";
let dataDir = "";
let stream: { cancel(): void } | undefined;

async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
}

/**
 * Polls until the query returns at least `series` results: Prometheus needs two scrapes after
 * a change for a rate, and targets come up one scrape apart.
 */
async function queryWithData(expr: string, series = 1, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await query(expr);
    if (answer.status !== "success" || (answer.data?.result.length ?? 0) >= series || Date.now() > deadline)
      return answer;
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connectTo(server.url);
  const tokens = await provisionVenue(nc, venue, ["alice", "bob"]);
  const placement = { natsUrl: [server.url], host: "127.0.0.1", ports: await freeServicePorts() };
  const mains = (s: string) => join(REPO_ROOT, "services", s, "src", "main.ts");
  for (const [main, config] of [
    [mains("matching"), engineServiceConfig(venue, 0, placement)],
    [mains("risk"), riskGatewayConfig(venue, placement)],
    [mains("market-data"), marketDataConfig(venue, placement)],
  ] as const) {
    const service = new ServiceProcess({ main, config, env: { TP_WS_PORT: "0" } });
    await service.start();
    services.push(service);
  }
  const [, risk, marketData] = services;

  // Market data with a subscriber, so that updates are sent and timed.
  const md = new MarketDataClient(`127.0.0.1:${marketData!.grpcPort}`, credentials.createInsecure());
  const call = md.subscribe({
    instruments: ["INFY"],
    channels: [MarketDataChannel.TRADES, MarketDataChannel.L1],
    depth: 0,
    conflationIntervalMs: 0,
    barInterval: 0,
  });
  call.on("error", () => undefined);
  call.on("data", () => undefined);
  stream = call;

  // Prometheus scraping every service's ops endpoint each second.
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  dataDir = mkdtempSync(join(tmpdir(), "tp-prometheus-"));
  const targets = services.map((s) => `127.0.0.1:${s.opsPort}`);
  writeFileSync(
    join(dataDir, "prometheus.yml"),
    JSON.stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      scrape_configs: [{ job_name: "tradeplane", static_configs: [{ targets }] }],
    }),
  );
  prometheus = spawn(
    findBinary("prometheus"),
    [
      `--config.file=${join(dataDir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dataDir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: "ignore" },
  );
  for (let ready = false; !ready;) {
    ready = await fetch(`${prometheusUrl}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 250));
  }

  // Flow: a trade, and a reject (a price outside the band).
  const orderEntry = new OrderEntryClient(`127.0.0.1:${risk!.grpcPort}`, credentials.createInsecure());
  const submit = (token: string, req: Partial<SubmitOrderRequest>) => {
    const m = new Metadata();
    m.set("authorization", `Bearer ${token}`);
    const order: SubmitOrderRequest = {
      account: "",
      clientOrderId: "c",
      instrument: "INFY",
      side: Side.BUY,
      orderType: OrderType.LIMIT,
      timeInForce: TimeInForce.DAY,
      price: 150_000,
      stopPrice: 0,
      qty: 1,
      postOnly: false,
      stpMode: 0,
      expireTime: undefined,
      displayQty: 0,
      stpGroup: 0,
      ...req,
    };
    return unary<SubmitOrderResponse>((cb) => orderEntry.submitOrder(order, m, cb));
  };
  for (let i = 0; i < 5; i++) {
    await submit(tokens.alice!, { clientOrderId: `s${i}`, side: Side.SELL, qty: 2 });
    await submit(tokens.bob!, { clientOrderId: `b${i}`, qty: 2 });
    await submit(tokens.bob!, { clientOrderId: `x${i}`, price: 1 });
  }
  orderEntry.close();
}, 180_000);

afterAll(async () => {
  stream?.cancel();
  prometheus?.kill("SIGTERM");
  await Promise.all(services.map((s) => s.signal("SIGTERM")));
  await nc?.close();
  await server?.stop();
  if (dataDir !== "") rmSync(dataDir, { recursive: true, force: true });
});

describe("the dashboards on a real Prometheus scraping a local venue", () => {
  it("scrapes every service", async () => {
    const up = await queryWithData('up{job="tradeplane"} == 1', 3);
    expect(up.data?.result).toHaveLength(3);
  });

  it.each(panelQueries)("%s: the query runs and returns data", async (_panel, expr) => {
    const answer = await queryWithData(asGrafanaSends(expr));
    expect(answer.error, expr).toBeUndefined();
    expect(answer.status).toBe("success");
    expect(answer.data?.result.length, expr).toBeGreaterThan(0);
  });
});

describe("the alerts on the same Prometheus", () => {
  it.each(alertExprs)("%s: the expression runs", async (_alert, expr) => {
    const answer = await query(expr);
    expect(answer.error, expr).toBeUndefined();
    expect(answer.status).toBe("success");
  });
});
