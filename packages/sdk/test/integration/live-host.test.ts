import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata } from "@grpc/grpc-js";
import {
  OrderEntryClient,
  OrderType,
  Side,
  TimeInForce,
  type GetAccountPositionsResponse,
  type ListOpenOrdersResponse,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { freePort, retry, unary } from "@tradeplane/testkit";
import { LiveHost, quote, type Strategy } from "../../src/index.ts";

/**
 * The SDK against a real local venue (`tradeplane up --headless`: nats-server, engine,
 * risk gateway and market data as processes): a quoting strategy rests orders, a taker
 * fills them, the risk gateway is killed and comes back while the strategy runs, and a
 * second host started after the first stopped loads the same position from the gateway.
 */

const BIN = fileURLToPath(new URL("../../../cli/bin/tradeplane.mjs", import.meta.url));
const MANIFEST = fileURLToPath(new URL("../../../../examples/venue.yaml", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tp-sdk-"));
let upProcess: ChildProcess | undefined;

interface LocalState {
  endpoints: { orderEntry: string; marketData: string };
  accounts: { name: string; token: string }[];
  natsPid?: number;
}

function servicePids(service: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, "utf8");
      if (env.includes(`TP_CONFIG_FILE=${dir}/`) && (service === "" || env.includes(service))) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

let state: LocalState;
const tokenOf = (account: string) => state.accounts.find((a) => a.name === account)!.token;

function auth(token: string): Metadata {
  const m = new Metadata();
  m.set("authorization", `Bearer ${token}`);
  return m;
}

async function take(side: Side, price: number, qty: number, id: string): Promise<SubmitOrderResponse> {
  const client = new OrderEntryClient(state.endpoints.orderEntry, credentials.createInsecure());
  try {
    return await unary<SubmitOrderResponse>((cb) =>
      client.submitOrder(
        {
          account: "demo-taker",
          clientOrderId: id,
          instrument: "INFY",
          side,
          orderType: OrderType.LIMIT,
          timeInForce: TimeInForce.IOC,
          price,
          stopPrice: 0,
          qty,
          postOnly: false,
          stpMode: 0,
          expireTime: undefined,
          displayQty: 0,
          stpGroup: 0,
        },
        auth(tokenOf("demo-taker")),
        cb,
      ),
    );
  } finally {
    client.close();
  }
}

async function gateway<T>(call: (c: OrderEntryClient, m: Metadata, cb: (e: Error | null, r: T) => void) => void) {
  const client = new OrderEntryClient(state.endpoints.orderEntry, credentials.createInsecure());
  try {
    return await unary<T>((cb) => call(client, auth(tokenOf("demo-mm")), cb));
  } finally {
    client.close();
  }
}

const quoter: Strategy = {
  onStart: (ctx) => ctx.setTimer("quote", 50),
  onTimer: (ctx) => {
    quote(ctx, "INFY", { bid: { price: 149_000, qty: 5 }, ask: { price: 151_000, qty: 5 } });
  },
};

beforeAll(async () => {
  const p = await freePort();
  const base = p > 60_000 ? p - 20_000 : p;
  upProcess = spawn(
    process.execPath,
    [BIN, "--data-dir", dir, "up", "--headless", "-f", MANIFEST, "--port-base", String(base), "--demo-rate", "0"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('venue "demo" is up')) resolve();
    };
    upProcess!.stdout!.on("data", onData);
    upProcess!.stderr!.on("data", onData);
    upProcess!.once("exit", (code) => reject(new Error(`up exited ${code} before the venue was up:\n${output}`)));
  });
  state = JSON.parse(readFileSync(join(dir, "local.json"), "utf8")) as LocalState;
});

afterAll(async () => {
  if (upProcess !== undefined && upProcess.exitCode === null) {
    const exited = new Promise((resolve) => upProcess!.once("exit", resolve));
    upProcess.kill("SIGINT");
    await exited;
  }
  try {
    const { natsPid } = JSON.parse(readFileSync(join(dir, "local.json"), "utf8")) as LocalState;
    if (natsPid !== undefined) process.kill(natsPid, "SIGKILL");
  } catch {
    // no state, or already gone
  }
  for (const pid of servicePids("")) process.kill(pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("LiveHost against a local venue", () => {
  it("quotes, keeps its position from fills across a gateway restart, cancels at stop, and reloads after a restart", async () => {
    const options = {
      orderEntry: state.endpoints.orderEntry,
      marketData: state.endpoints.marketData,
      token: tokenOf("demo-mm"),
      account: "demo-mm",
      instruments: ["INFY"],
      retryMs: 100,
    };
    const host = await LiveHost.start({ ...options, strategy: quoter, clientOrderIdPrefix: "q1-" });
    await retry(async () => expect(host.driver.state.openOrders("INFY")).toHaveLength(2));

    const first = await take(Side.SELL, 149_000, 3, "t1");
    expect(first.reports.some((r) => r.lastQty === 3)).toBe(true);
    await retry(async () => expect(host.driver.state.netQty("INFY")).toBe(3));

    // The gateway dies (the local supervisor restarts it); the host reopens its session and resumes.
    const [risk] = servicePids("risk");
    expect(risk).toBeDefined();
    process.kill(risk!, "SIGKILL");
    await retry(async () => {
      const r = await take(Side.SELL, 149_000, 2, `t2-${Date.now()}`);
      expect(r.reports.some((x) => x.lastQty === 2)).toBe(true);
    }, 60_000);
    await retry(async () => expect(host.driver.state.netQty("INFY")).toBe(5), 60_000);
    expect(host.sessions).toBeGreaterThan(1);

    const venue = await gateway<GetAccountPositionsResponse>((c, m, cb) =>
      c.getAccountPositions({ account: "demo-mm", instrument: "INFY" }, m, cb),
    );
    const local = host.driver.state.position("INFY");
    expect(local.netQty).toBe(venue.positions[0]!.netQty);
    expect(local.realisedPnl).toBe(venue.positions[0]!.realisedPnl);
    expect(local.lots).toEqual(venue.positions[0]!.openLots);

    await host.stop();
    await retry(async () => {
      const open = await gateway<ListOpenOrdersResponse>((c, m, cb) =>
        c.listOpenOrders({ account: "demo-mm", instrument: "" }, m, cb),
      );
      expect(open.orders).toEqual([]);
    });

    // A strategy that restarts: its position comes back from the gateway, exactly.
    const again = await LiveHost.start({ ...options, strategy: {}, clientOrderIdPrefix: "q2-" });
    expect(again.driver.state.netQty("INFY")).toBe(5);
    expect(again.driver.state.position("INFY").lots).toEqual(local.lots);
    expect(again.baselines).toBe(1);
    await again.stop();
  });
});
