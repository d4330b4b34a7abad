import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata } from "@grpc/grpc-js";
import { OrderEntryClient, type ListOpenOrdersResponse } from "@tradeplane/contracts";
import { DemoVenue, retry, ServiceProcess, unary } from "@tradeplane/testkit";

/**
 * The runtime as a real process against a local venue: it reads its StrategyDeployment
 * from a file and its token from another, quotes, serves metrics, and cancels its orders
 * when it is stopped; a deployment with a bad parameter is refused with the field named.
 */

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
let venue: DemoVenue;
const dir = mkdtempSync(join(tmpdir(), "tp-strategy-"));

const USER_MODULE = fileURLToPath(new URL("../fixtures/fixed-quotes.ts", import.meta.url));
const NOT_A_STRATEGY = fileURLToPath(new URL("../fixtures/not-a-strategy.ts", import.meta.url));

function files(parameters: string, strategy = `{ builtin: market-maker, parameters: ${parameters} }`) {
  const specFile = join(dir, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    specFile,
    `apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: mm-infy }
spec:
  venueRef: { name: demo }
  account: demo-mm
  strategy: ${strategy}
  instruments: [INFY]
`,
  );
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${venue.tokenOf("demo-mm")}\n`, { mode: 0o600 });
  return { specFile, tokenFile };
}

function runtime(parameters: string, user?: { strategy: string; module?: string }): ServiceProcess {
  return new ServiceProcess({
    main: MAIN,
    config: {
      ...files(parameters, user?.strategy),
      ...(user?.module === undefined ? {} : { strategyModule: user.module }),
      orderEntry: venue.state.endpoints.orderEntry,
      marketData: venue.state.endpoints.marketData,
      instanceId: "strategy-test",
      logLevel: "warn",
    },
  });
}

async function openOrders(): Promise<ListOpenOrdersResponse> {
  const client = new OrderEntryClient(venue.state.endpoints.orderEntry, credentials.createInsecure());
  const m = new Metadata();
  m.set("authorization", `Bearer ${venue.tokenOf("demo-mm")}`);
  try {
    return await unary<ListOpenOrdersResponse>((cb) =>
      client.listOpenOrders({ account: "demo-mm", instrument: "" }, m, cb),
    );
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  venue = await DemoVenue.start();
});

afterAll(async () => {
  await ServiceProcess.killAll();
  await venue?.stop();
});

describe("strategy runtime", () => {
  it("quotes from its mounted spec, reports metrics, and cancels its orders at SIGTERM", async () => {
    const p = runtime("{ spreadTicks: 4, quoteQty: 5, referencePrice: 150000, staleMs: 0 }");
    await p.start();
    await retry(async () => expect((await openOrders()).orders).toHaveLength(2));
    const metrics = await (await fetch(`http://127.0.0.1:${p.opsPort}/metrics`)).text();
    expect(metrics).toMatch(/tp_strategy_orders_sent_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/tp_strategy_position_lots\{[^}]*venue="demo"[^}]*instrument="INFY"/);
    expect(await (await fetch(`http://127.0.0.1:${p.opsPort}/readyz`)).status).toBe(200);
    await p.signal("SIGTERM");
    expect((await openOrders()).orders).toEqual([]);
  });

  it("refuses a deployment with an unknown parameter, naming it", async () => {
    const p = runtime("{ spread: 4 }");
    await expect(p.start()).rejects.toThrow(/spec\.strategy\.parameters\.spread/);
  });

  it("runs the strategy module of a custom image, with the spec's parameters, and cancels its orders at SIGTERM", async () => {
    const p = runtime("", {
      strategy: "{ image: registry.example/acme/quotes:1, parameters: { price: 150000, qty: 3 } }",
      module: USER_MODULE,
    });
    await p.start();
    await retry(async () =>
      expect(
        (await openOrders()).orders.map((o) => [o.price, o.leavesQty]).sort((a, b) => Number(a[0]) - Number(b[0])),
      ).toEqual([
        [149_990, 3],
        [150_010, 3],
      ]),
    );
    await p.signal("SIGTERM");
    expect((await openOrders()).orders).toEqual([]);
  });

  it("refuses a custom image's spec when it has no strategy module, or one that exports none", async () => {
    const image = "{ image: registry.example/acme/quotes:1 }";
    await expect(runtime("", { strategy: image }).start()).rejects.toThrow(/spec\.strategy\.image.*TP_STRATEGY_MODULE/);
    await expect(runtime("", { strategy: image, module: NOT_A_STRATEGY }).start()).rejects.toThrow(
      /exports no strategy/,
    );
  });
});
