import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_BIN, DemoVenue, REPO_ROOT, retry } from "@tradeplane/testkit";

/**
 * Local mode runs two venues at once from two TradingVenue files (the NSE-like and BSE-like
 * examples listing the same instruments), each with its own nats-server, data folder and
 * ports, and the example router deployment across them as a strategy runtime connected to
 * both: it completes its parent order and writes its best-execution report.
 */
let venue: DemoVenue;
const example = (f: string) => join(REPO_ROOT, "examples", f);

beforeAll(async () => {
  venue = await DemoVenue.start(example("nse.yaml"), example("bse.yaml"), example("router.yaml"));
}, 180_000);

afterAll(async () => {
  await venue?.stop();
});

interface Report {
  filledQty: number;
  limitPrice: number;
  rounds: { improvedOn?: { venue: string } }[];
  children: { venue: string; price: number; filledQty: number; filledNotional: number }[];
}

describe("tradeplane up with two venues and a router across them", () => {
  it("runs each venue apart: its own nats-server, data folder and ports, the same instruments", async () => {
    const bse = venue.stateOf("bse");
    expect(venue.state.natsPid).toBeGreaterThan(0);
    expect(bse.natsPid).toBeGreaterThan(0);
    expect(bse.natsPid).not.toBe(venue.state.natsPid);
    expect(bse.endpoints.orderEntry).not.toBe(venue.state.endpoints.orderEntry);
    expect(bse.accounts.map((a) => a.name)).toEqual(expect.arrayContaining(["mm-bse", "router-bse"]));
    expect(venue.state.accounts.map((a) => a.name)).toEqual(expect.arrayContaining(["mm-nse", "router-nse"]));
    expect(venue.servicePids("strategy-infy-router")).toHaveLength(1);
    // The CLI reaches the second venue through its data folder.
    const { stdout } = await promisify(execFile)(process.execPath, [
      CLI_BIN,
      "--data-dir",
      venue.dirOf("bse"),
      "--json",
      "status",
    ]);
    expect(stdout).toContain('"bse"');
  });

  it("the router completes its parent across the venues within its limit and reports every child", async () => {
    const file = join(venue.dir, "reports", "infy-router.json");
    const report = await retry(async () => {
      if (!existsSync(file)) throw new Error("no report yet");
      const r = JSON.parse(readFileSync(file, "utf8")) as Report;
      if (r.filledQty < 150) throw new Error(`filled ${r.filledQty}`);
      return r;
    }, 90_000);
    expect(report.filledQty).toBe(150);
    expect(report.children.reduce((s, c) => s + c.filledQty, 0)).toBe(150);
    for (const c of report.children) {
      expect(c.price).toBeLessThanOrEqual(report.limitPrice);
      if (c.filledQty > 0) expect(c.filledNotional).toBeLessThanOrEqual(c.filledQty * report.limitPrice);
    }
    // Which venue shows the better price at each round depends on the makers' quotes then.
    for (const c of report.children) expect(["nse", "bse"]).toContain(c.venue);
    expect(report.rounds[0]?.improvedOn).toBeDefined();
  });
});
