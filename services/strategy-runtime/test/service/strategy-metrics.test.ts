import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Side } from "@tradeplane/contracts";
import { HostErrorKind } from "@tradeplane/sdk";
import { DemoVenue, findBinary, REPO_ROOT, retry, ServiceProcess } from "@tradeplane/testkit";

/**
 * The runtime's metrics for a strategy across two venues (the smart order router over the
 * NSE-like and BSE-like examples, run by local mode), as a real runtime process serves them:
 * every tp_strategy_* series per venue with the account traded there, the counters real
 * counters that only rise, and the whole page clean under `promtool check metrics`.
 */

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "tp-strategy-metrics-"));
/** The router's accounts on both venues: local mode provisions them; the test runs the router itself. */
const ACCOUNTS = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: router-accounts }
spec:
  venueRef: { name: nse }
  account: router-nse
  venues: [{ venueRef: { name: bse }, account: router-bse }]
  strategy: { builtin: smart-order-router, parameters: { side: BUY, totalQty: 1, limitPrice: 1 } }
  instruments: [INFY]
  limits: { maxPosition: 1000, maxOrdersPerSecond: 200 }
  paused: true
`;
const SPEC = `apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: infy-router }
spec:
  venueRef: { name: nse }
  account: router-nse
  venues: [{ venueRef: { name: bse }, account: router-bse }]
  strategy: { builtin: smart-order-router, parameters: { side: BUY, totalQty: 30, limitPrice: 150100, retryMs: 100 } }
  instruments: [INFY]
  limits: { maxPosition: 1000, maxOrdersPerSecond: 200 }
`;

let venue: DemoVenue;
let runtime: ServiceProcess;

/** The first venue's state is the run's own; the others' are in their folders. */
const stateOf = (v: string) => (v === "nse" ? venue.state : venue.stateOf(v));
const ordersOn = (v: string) => (v === "nse" ? venue.orders : venue.ordersOn(v));
const tokenOn = (v: string, account: string) => stateOf(v).accounts.find((a) => a.name === account)!.token;

async function scrape(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${runtime.opsPort}/metrics`)).text();
}

/** The value of the one series of `name` whose labels include `labels`. */
function valueOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  const lines = text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  if (lines.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${lines.length} series`);
  return lines[0] === undefined ? undefined : Number(lines[0].slice(lines[0].lastIndexOf(" ") + 1));
}

beforeAll(async () => {
  writeFileSync(join(dir, "accounts.yaml"), ACCOUNTS);
  venue = await DemoVenue.start(
    join(REPO_ROOT, "examples", "nse.yaml"),
    join(REPO_ROOT, "examples", "bse.yaml"),
    join(dir, "accounts.yaml"),
  );
  // Offers on both venues that the router takes: 20 on NSE, then 10 of BSE's 20.
  for (const [v, price] of [
    ["nse", 150_000],
    ["bse", 150_010],
  ] as const)
    await ordersOn(v).submitLimit({
      account: "demo-mm",
      clientOrderId: `offer-${v}`,
      instrument: "INFY",
      side: Side.SELL,
      price,
      qty: 20,
    });
  writeFileSync(join(dir, "spec.yaml"), SPEC);
  for (const v of ["nse", "bse"])
    writeFileSync(join(dir, `${v}.token`), `${tokenOn(v, `router-${v}`)}\n`, { mode: 0o600 });
  const bse = stateOf("bse").endpoints;
  runtime = new ServiceProcess({
    main: MAIN,
    config: {
      specFile: join(dir, "spec.yaml"),
      tokenFile: join(dir, "nse.token"),
      orderEntry: stateOf("nse").endpoints.orderEntry,
      marketData: stateOf("nse").endpoints.marketData,
      venues: [
        { venue: "bse", orderEntry: bse.orderEntry, marketData: bse.marketData, tokenFile: join(dir, "bse.token") },
      ],
      instanceId: "strategy-metrics-test",
      logLevel: "warn",
    },
  });
  await runtime.start();
}, 180_000);

afterAll(async () => {
  await ServiceProcess.killAll();
  await venue?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a strategy across two venues", () => {
  it("reports each venue's series with the account it trades there", async () => {
    await retry(async () => {
      const text = await scrape();
      expect(
        valueOf(text, "tp_strategy_position_lots", { venue: "nse", account: "router-nse", instrument: "INFY" }),
      ).toBe(20);
      expect(
        valueOf(text, "tp_strategy_position_lots", { venue: "bse", account: "router-bse", instrument: "INFY" }),
      ).toBe(10);
    }, 30_000);
    const text = await scrape();
    for (const v of ["nse", "bse"]) {
      const labels = { venue: v, account: `router-${v}` };
      expect(valueOf(text, "tp_strategy_sessions_total", labels), v).toBe(1);
      expect(valueOf(text, "tp_strategy_orders_sent_total", labels), v).toBeGreaterThanOrEqual(1);
      expect(valueOf(text, "tp_strategy_fills_total", labels), v).toBeGreaterThanOrEqual(1);
      expect(valueOf(text, "tp_strategy_open_orders", labels), v).toBe(0);
      // Every kind's series from the first scrape; nothing went wrong in this run.
      for (const kind of Object.values(HostErrorKind))
        expect(valueOf(text, "tp_strategy_errors_total", { ...labels, kind }), `${v} ${kind}`).toBe(0);
    }
  });

  it("serves its counters as counters that keep their value from one scrape to the next", async () => {
    const first = await scrape();
    const second = await scrape();
    expect(first).toContain("# TYPE tp_strategy_orders_sent_total counter");
    expect(first).toContain("# TYPE tp_strategy_errors_total counter");
    for (const name of ["tp_strategy_orders_sent_total", "tp_strategy_fills_total", "tp_strategy_sessions_total"])
      for (const v of ["nse", "bse"])
        expect(valueOf(second, name, { venue: v }), `${name} ${v}`).toBe(valueOf(first, name, { venue: v }));
  });

  it("passes promtool check metrics", async () => {
    const check = run(findBinary("promtool"), ["check", "metrics"]);
    check.child.stdin!.end(await scrape());
    const { stdout, stderr } = await check;
    expect(`${stdout}${stderr}`.trim()).toBe("");
  });
});
