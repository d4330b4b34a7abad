import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { FixClient } from "@tradeplane/fix-gateway/test-support/fix-client";
import { frame } from "@tradeplane/fix-gateway/test-support/fix-text";
import {
  EXAMPLE_STRATEGIES,
  EXAMPLE_VENUE,
  findBinary,
  LocalVenueRun,
  PrometheusServer,
  REPO_ROOT,
  type ScrapeTarget,
} from "@tradeplane/testkit";
import { dashboardJson } from "../../scripts/dashboards/dashboards.ts";
import { DASHBOARDS } from "../../scripts/dashboards/panels.ts";

/**
 * The dashboards and alerts against the metrics a venue really exposes: a local venue trading
 * under the example strategies (`npm start`'s market maker, noise and momentum takers, each
 * its own strategy runtime), with its journal and a FIX gateway of two sessions that a FIX
 * client drives through what the FIX panels count, every process scraped by a real Prometheus
 * every second, and every panel's and every alert's query run through Prometheus's HTTP API.
 * A misspelt metric or label, or PromQL that does not parse, fails here. The operator's panels
 * only get data in a cluster (no operator runs in local mode): their queries must still parse
 * and run.
 */

const RULES = join(REPO_ROOT, "charts", "tradeplane", "files", "prometheus-rules", "tradeplane-alerts.yaml");
/** The StrategyDeployments of EXAMPLE_STRATEGIES, each its own runtime. */
const STRATEGY_COUNT = (readFileSync(EXAMPLE_STRATEGIES, "utf8").match(/^kind:\s*StrategyDeployment\s*$/gm) ?? [])
  .length;
const run = promisify(execFile);
const venue = new LocalVenueRun();
let prometheus: PrometheusServer;
let subscriber: WebSocket | undefined;
let fixClient: FixClient | undefined;
/** The strategy runtimes' ops endpoints. */
let strategies: string[] = [];

interface LocalEndpoints {
  endpoints: {
    engines: { partition: number; ops: string }[];
    riskOps: string;
    marketDataOps: string;
    marketDataWs: string;
    fix: string;
    fixOps: string;
    journalOps: string;
    /** The strategy runtimes' ops endpoints, by StrategyDeployment name. */
    strategies?: { name: string; ops: string }[];
  };
}

/** Grafana's variables as a dashboard with All chosen in every list would expand them. */
const expand = (expr: string) => expr.replaceAll("$__rate_interval", "20s").replace(/\$[a-z]\w*/g, ".*");

/** The gateway's CompID and the two FIX sessions: one trades, one is throttled at 2 messages a second. */
const FIX_VENUE = "DEMOVENUE";
const FIX_SESSIONS = [
  { id: "alice-fix", targetCompId: "ALICE", account: "alice" },
  { id: "taker-fix", targetCompId: "TAKER", account: "demo-taker", maxMessagesPerSecond: 2 },
] as const;

/** The example venue with its FIX gateway on (examples/venue.yaml runs none), in the data folder. */
function venueWithFix(dir: string): string {
  const manifest = parse(readFileSync(EXAMPLE_VENUE, "utf8")) as { spec: Record<string, unknown> };
  manifest.spec.fix = { enabled: true, senderCompId: FIX_VENUE, sessions: FIX_SESSIONS };
  const file = join(dir, "venue-with-fix.yaml");
  writeFileSync(file, stringify(manifest));
  return file;
}

function scrapeTargets(state: LocalEndpoints, strategies: readonly string[]): ScrapeTarget[] {
  const address = (url: string) => new URL(url).host;
  return [
    ...state.endpoints.engines.map((e) => ({ address: address(e.ops), labels: { component: "engine" } })),
    { address: address(state.endpoints.riskOps), labels: { component: "risk" } },
    { address: address(state.endpoints.marketDataOps), labels: { component: "market-data" } },
    { address: address(state.endpoints.fixOps), labels: { component: "fix-gateway" } },
    { address: address(state.endpoints.journalOps), labels: { component: "journal" } },
    ...strategies.map((ops) => ({ address: address(ops), labels: { component: "strategy" } })),
  ];
}

/**
 * FIX traffic for every FIX panel: alice's session logs on, has a NewOrderSingle answered
 * (D to 8), cancels an order it never sent (OrderCancelReject), sends a field without a value (Reject 373=4), asks for a resend (its Logon comes
 * back as a gap fill) and sends garbled bytes; the taker's session sends five messages the
 * gateway does not support at once (two BusinessMessageRejects, three throttled with 373=99)
 * and logs out. Alice's session stays logged on.
 */
async function fixTraffic(address: string): Promise<FixClient> {
  const port = Number(address.split(":").at(-1));
  const logon = async (compId: string) => {
    const client = await FixClient.connect(port);
    client.send("A", "98=0|108=120|141=Y", { sender: compId, target: FIX_VENUE });
    await client.waitFor((f) => f[35] === "A");
    return client;
  };
  const [alice, taker] = [FIX_SESSIONS[0].targetCompId, FIX_SESSIONS[1].targetCompId];
  const a = await logon(alice);
  const asAlice = (msgType: string, body = "") => a.send(msgType, body, { sender: alice, target: FIX_VENUE });
  asAlice("D", "11=prometheus-1|55=INFY|54=1|38=1|40=2|44=1500.00|59=3");
  await a.waitFor((f) => f[35] === "8" && f[11] === "prometheus-1");
  asAlice("F", "11=prometheus-cxl|41=no-such-order|55=INFY|54=1");
  await a.waitFor((f) => f[35] === "9" && f[11] === "prometheus-cxl");
  asAlice("0", "58=");
  await a.waitFor((f) => f[35] === "3" && f[373] === "4");
  asAlice("2", "7=1|16=0");
  await a.waitFor((f) => f[35] === "4");
  a.raw(frame(`35=0|49=${alice}|56=${FIX_VENUE}|34=${a.seq}|52=20260301-12:00:00`, { checksum: 0 }));

  const t = await logon(taker);
  const asTaker = (msgType: string, body = "") => t.send(msgType, body, { sender: taker, target: FIX_VENUE });
  for (let i = 0; i < 5; i++) asTaker("R", `131=quote-${i}`);
  await t.waitFor((f) => f[35] === "j");
  await t.waitFor((f) => f[35] === "3" && f[373] === "99");
  asTaker("5");
  await t.waitClosed();
  return a;
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
  await venue.up({ manifests: [venueWithFix(venue.dir), EXAMPLE_STRATEGIES] });
  const state = venue.state<LocalEndpoints>();
  strategies = (state.endpoints.strategies ?? []).map((s) => s.ops);
  if (strategies.length !== STRATEGY_COUNT)
    throw new Error(`local.json lists ${strategies.length} strategy runtimes, not ${STRATEGY_COUNT}`);
  prometheus = await PrometheusServer.start({ targets: scrapeTargets(state, strategies), ruleFiles: [RULES] });
  // Flow the strategies do not make (their limits refuse orders before they leave): a reject (a price far outside the collar) for the reject panels,
  // a market-data subscriber for the fan-out panels, FIX sessions for the FIX panels and journal queries.
  await venue.cli("order", "submit", "INFY", "--account", "alice", "--side", "buy", "--qty", "1", "--price", "2500.00");
  subscriber = await subscribe(state.endpoints.marketDataWs);
  fixClient = await fixTraffic(state.endpoints.fix);
  // Journal queries: one answered, one failed (no such order).
  for (const args of [
    ["journal", "trades", "--limit", "5"],
    ["journal", "audit", String(Number.MAX_SAFE_INTEGER)],
  ])
    await venue.cli(...args);
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
  fixClient?.close();
  await prometheus?.stop();
  venue.cleanup();
});

describe("dashboards and alerts against a live local venue", () => {
  it("every service's /metrics passes promtool check metrics", async () => {
    const state = venue.state<LocalEndpoints>();
    const urls = [
      ...state.endpoints.engines.map((e) => e.ops),
      state.endpoints.riskOps,
      state.endpoints.marketDataOps,
      state.endpoints.fixOps,
      state.endpoints.journalOps,
      ...strategies,
    ];
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

  /** Each dashboard's lists as the JSON defines them: label_values(<series>, <label>). */
  const variables = DASHBOARDS.flatMap((d) =>
    (dashboardJson(d).templating as { list: { name: string; definition?: string }[] }).list
      .filter((x) => x.definition !== undefined)
      .map((x) => [`${d.uid}: $${x.name}`, x.definition!] as const),
  );

  it.each(variables)("variable %s lists values", async (_name, definition) => {
    const [, series, label] = /^label_values\((.+), (\w+)\)$/.exec(definition)!;
    const url = `${prometheus.url}/api/v1/label/${label}/values?match[]=${encodeURIComponent(expand(series!))}`;
    const res = (await (await fetch(url)).json()) as { status: string; data: string[] };
    expect(res.status, definition).toBe("success");
    expect(
      res.data.filter((value) => value !== ""),
      definition,
    ).not.toEqual([]);
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
