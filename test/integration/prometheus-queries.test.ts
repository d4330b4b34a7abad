import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  EXAMPLE_STRATEGIES,
  EXAMPLE_VENUE,
  findBinary,
  LocalVenueRun,
  PrometheusServer,
  REPO_ROOT,
  type ScrapeTarget,
} from "@tradeplane/testkit";
import { DASHBOARDS } from "../../scripts/dashboards/panels.ts";

/**
 * The dashboards and alerts against the metrics a venue really exposes: a local venue trading
 * under the example strategies (`npm start`'s market maker, noise and momentum takers, each
 * its own strategy runtime), scraped by a real Prometheus every second, and every panel's and every alert's
 * query run through Prometheus's HTTP API. A misspelt metric or label, or PromQL that does
 * not parse, fails here. The operator's panels only get data in a cluster (no operator runs
 * in local mode): their queries must still parse and run.
 */

const RULES = join(REPO_ROOT, "charts", "tradeplane", "files", "prometheus-rules", "tradeplane-alerts.yaml");
const run = promisify(execFile);
const venue = new LocalVenueRun();
let prometheus: PrometheusServer;
let subscriber: WebSocket | undefined;

interface LocalEndpoints {
  endpoints: {
    engines: { partition: number; ops: string }[];
    riskOps: string;
    marketDataOps: string;
    marketDataWs: string;
    journalOps?: string;
  };
}

/** Grafana's variables as a dashboard with every venue selected would expand them. */
const expand = (expr: string) => expr.replaceAll("$venue", ".*").replaceAll("$__rate_interval", "20s");

function scrapeTargets(state: LocalEndpoints): ScrapeTarget[] {
  const address = (url: string) => new URL(url).host;
  return [
    ...state.endpoints.engines.map((e) => ({ address: address(e.ops), labels: { component: "engine" } })),
    { address: address(state.endpoints.riskOps), labels: { component: "risk" } },
    { address: address(state.endpoints.marketDataOps), labels: { component: "market-data" } },
    ...(state.endpoints.journalOps !== undefined
      ? [{ address: address(state.endpoints.journalOps), labels: { component: "journal" } }]
      : []),
  ];
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${prometheus.recentOutput}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const hasData = async (expr: string) => {
  const result = await prometheus.query(expand(expr));
  return result.status === "success" && (result.data?.result.length ?? 0) > 0;
};

const panels = DASHBOARDS.flatMap((d) =>
  d.rows.flatMap((row) =>
    row.panels.flatMap((p) => p.queries.map((q) => [`${d.uid}: ${p.title}: ${q.legend ?? ""}`, q.expr, p] as const)),
  ),
);

beforeAll(async () => {
  await venue.up({ manifests: [EXAMPLE_VENUE, EXAMPLE_STRATEGIES] });
  const state = venue.state<LocalEndpoints>();
  prometheus = await PrometheusServer.start({ targets: scrapeTargets(state), ruleFiles: [RULES] });
  // Flow the strategies do not make (their limits refuse orders before they leave): a reject (a price far outside the collar) for the reject panels,
  // and a market-data subscriber for the fan-out panels.
  await venue.cli("order", "submit", "INFY", "--account", "alice", "--side", "buy", "--qty", "1", "--price", "2500.00");
  subscriber = await subscribe(state.endpoints.marketDataWs);
  await waitFor("every target to be scraped", async () => (await prometheus.targets()).every((t) => t.health === "up"));
  // Rates need two scrapes inside their window and the strategies to trade: wait until every
  // panel that a local venue feeds has data (the assertions below then say which has none).
  await waitFor("every panel to have data", async () =>
    (await Promise.all(panels.filter(([, , p]) => p.dataOnlyInCluster !== true).map(([, e]) => hasData(e)))).every(
      Boolean,
    ),
  ).catch(() => undefined);
}, 180_000);

/** A WebSocket market-data client subscribed to books the example strategies trade. */
function subscribe(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const request = { type: "subscribe", id: "prometheus-test", instruments: ["RELIANCE", "INFY"], channels: ["L2"] };
    ws.onopen = () => ws.send(JSON.stringify(request));
    ws.onmessage = (m) => {
      const message = JSON.parse(String(m.data)) as { type: string; message?: string };
      if (message.type === "subscribed") resolve(ws);
      if (message.type === "error") reject(new Error(`subscription refused: ${message.message}`));
    };
    ws.onerror = () => reject(new Error(`cannot subscribe at ${url}`));
  });
}

afterAll(async () => {
  subscriber?.close();
  await prometheus?.stop();
  venue.cleanup();
});

describe("dashboards and alerts against a live local venue", () => {
  it("every service's /metrics passes promtool check metrics", async () => {
    const state = venue.state<LocalEndpoints>();
    const urls = [...state.endpoints.engines.map((e) => e.ops), state.endpoints.riskOps, state.endpoints.marketDataOps];
    for (const url of urls) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const check = run(findBinary("promtool"), ["check", "metrics"]);
      check.child.stdin!.end(text);
      const { stdout, stderr } = await check;
      expect(`${stdout}${stderr}`.trim(), url).toBe("");
    }
  });

  it.each(panels)("panel %s runs and returns data", async (_name, expr, panel) => {
    const result = await prometheus.query(expand(expr));
    expect(result.error, expr).toBeUndefined();
    expect(result.status).toBe("success");
    if (panel.dataOnlyInCluster !== true) expect(result.data?.result.length, expr).toBeGreaterThan(0);
  });

  it("every alert's query runs", async () => {
    const groups = (parse(readFileSync(RULES, "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] })
      .groups;
    for (const rule of groups.flatMap((g) => g.rules)) {
      const result = await prometheus.query(rule.expr);
      expect(result.error, rule.alert).toBeUndefined();
      expect(result.status, rule.alert).toBe("success");
    }
  });

  it("Prometheus loaded the alert rules without errors", async () => {
    const res = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { health: string; lastError?: string; name: string }[] }[] };
    };
    const rules = res.data.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) expect(r.lastError ?? "", r.name).toBe("");
  });
});
