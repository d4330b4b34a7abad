// The cost of account ownership by lease (ADR 0003): closed-loop SubmitOrder latency (one
// order at a time, each an IOC that finds nothing to trade, so no limit or book grows) sent
//   - to a gateway with ownership "single" (today's one replica), the baseline;
//   - to the account's owner among --replicas gateways with ownership "lease";
//   - to a replica that does not own the account: the request is forwarded over GatewayPeer;
// measured in the same run on the same nats-server and engine. Then the failover time: the
// owner is SIGKILLed and orders go on through another replica (retrying on UNAVAILABLE);
// the time from the kill to the first order decided again (lease ttl + fences + reading the
// account's orders of the last second from the command log). CPU seconds per order of the
// gateways are printed beside (the machine is shared: wall-clock percentiles are noisy, CPU
// time less so).
//   npm run -s bench:replicas -- [--replicas 3] [--orders 2000] [--ttl-ms 1500]
// Last line: {"replicas":N,"orders":M,"singleP50Ms":..,"singleP99Ms":..,"ownerP50Ms":..,"ownerP99Ms":..,
//   "forwardedP50Ms":..,"forwardedP99Ms":..,"failoverMs":..,"cpuUsPerOrder":{...}}
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { Kvm } from "@nats-io/kv";
import {
  accountsBucket,
  OrderEntryClient,
  OrderType,
  ownersBucket,
  Side,
  TimeInForce,
  type SubmitOrderRequest,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { freePort, ServiceProcess, testInstrumentSettings } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { putAccount, putToken } from "@tradeplane/accounts";
import { cpuSecondsOf } from "./lib/cpu-time.ts";
import { Histogram } from "./lib/histogram.ts";
import { benchVenue, numericFlags } from "./support/venue.ts";

const flags = numericFlags({ replicas: 3, orders: 2_000, ttlMs: 1_500 });
const v = await benchVenue("replicas");
const kv = await new Kvm(v.nc).open(accountsBucket(v.venue));
const TOKEN = "alice-bench-token-0123456789";
await putAccount(kv, { name: "alice", disabled: false, principals: ["alice"], limits: {}, defaultStpMode: 0 });
await putToken(kv, TOKEN, "alice");
const engine = new EngineProcess({
  natsUrl: v.server.url,
  venue: v.venue,
  instanceId: "bench-engine",
  instruments: testInstrumentSettings,
  env: { TP_LOG_LEVEL: "warn" },
});
await engine.start();
const dir = mkdtempSync(join(tmpdir(), "tp-bench-replicas-"));
const tokenFile = join(dir, "peer-token");
writeFileSync(tokenFile, "bench-peer-token-0123456789-0123456789\n");

async function gateway(id: string, lease: boolean): Promise<{ process: ServiceProcess; client: OrderEntryClient }> {
  const peerPort = await freePort();
  const process = new ServiceProcess({
    main: fileURLToPath(import.meta.resolve("@tradeplane/risk/main")),
    config: {
      instruments: testInstrumentSettings.map((i) => ({
        symbol: i.symbol,
        partition: 0,
        referencePrice: i.referencePrice,
      })),
    },
    env: {
      TP_NATS_URL: v.server.url,
      TP_VENUE: v.venue,
      TP_INSTANCE_ID: id,
      TP_LOG_LEVEL: "warn",
      ...(lease
        ? {
            TP_OWNERSHIP: "lease",
            TP_PEER_HOST: "127.0.0.1",
            TP_PEER_PORT: String(peerPort),
            TP_PEER_ADDRESS: `127.0.0.1:${peerPort}`,
            TP_PEER_TOKENS_FILE: tokenFile,
            TP_OWNER_LEASE_TTL_MS: String(flags.ttlMs),
          }
        : {}),
    },
  });
  await process.start();
  return { process, client: new OrderEntryClient(`127.0.0.1:${process.grpcPort}`, credentials.createInsecure()) };
}

const metadata = new Metadata();
metadata.set("authorization", `Bearer ${TOKEN}`);
let n = 0;
/** A buy far below the market, IOC: refused by nothing, traded with nothing, gone at once. */
const ioc = (): SubmitOrderRequest => ({
  account: "",
  clientOrderId: `o${++n}`,
  instrument: "INFY",
  side: Side.BUY,
  orderType: OrderType.LIMIT,
  timeInForce: TimeInForce.IOC,
  price: 95_000,
  stopPrice: 0,
  qty: 1,
  postOnly: false,
  stpMode: 0,
  expireTime: undefined,
  displayQty: 0,
  stpGroup: 0,
});
const submit = (client: OrderEntryClient): Promise<SubmitOrderResponse> =>
  new Promise((resolve, reject) =>
    client.submitOrder(ioc(), metadata, { deadline: Date.now() + 30_000 }, (err: ServiceError | null, res) =>
      err === null ? resolve(res) : reject(err),
    ),
  );

/** Closed-loop latency of `orders` orders (after 200 of warm-up), and the CPU seconds of `pids` meanwhile. */
async function measure(client: OrderEntryClient, pids: (number | undefined)[]) {
  for (let i = 0; i < 200; i++) await submit(client);
  const h = new Histogram();
  const cpu0 = pids.map(cpuSecondsOf);
  for (let i = 0; i < flags.orders; i++) {
    const t = process.hrtime.bigint();
    await submit(client);
    h.record(Number(process.hrtime.bigint() - t));
  }
  const cpu = pids.reduce<number>((sum, pid, i) => sum + cpuSecondsOf(pid) - cpu0[i]!, 0);
  return {
    p50Ms: +(h.quantile(0.5) / 1e6).toFixed(3),
    p99Ms: +(h.quantile(0.99) / 1e6).toFixed(3),
    cpuUsPerOrder: Math.round((cpu / flags.orders) * 1e6),
  };
}

// 1. One replica, as today.
const single = await gateway("single", false);
const baseline = await measure(single.client, [single.process.pid]);
single.client.close();
await single.process.signal("SIGTERM");

// 2. Several replicas: the first one asked takes the account.
const replicas = [];
for (let i = 0; i < flags.replicas; i++) replicas.push(await gateway(`gw${i}`, true));
await submit(replicas[0]!.client);
const holder = (await (await new Kvm(v.nc).open(ownersBucket(v.venue))).get("alice"))?.json<{ holder: string }>()
  .holder;
if (!holder?.startsWith("gw0-")) throw new Error(`gw0 should own the account, the owners bucket says ${holder}`);
const pids = replicas.map((r) => r.process.pid);
const owner = await measure(replicas[0]!.client, pids);
const forwarded = await measure(replicas[1]!.client, pids);

// 3. Failover: kill the owner, keep sending through another replica until one is decided again.
const killedAt = performance.now();
await replicas[0]!.process.signal("SIGKILL");
let failoverMs = -1;
for (;;) {
  try {
    await submit(replicas[1]!.client);
    failoverMs = Math.round(performance.now() - killedAt);
    break;
  } catch {
    if (performance.now() - killedAt > 60_000) break;
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const r of replicas) r.client.close();
await ServiceProcess.killAll();
await v.close();
console.log(
  JSON.stringify({
    replicas: flags.replicas,
    orders: flags.orders,
    ttlMs: flags.ttlMs,
    singleP50Ms: baseline.p50Ms,
    singleP99Ms: baseline.p99Ms,
    ownerP50Ms: owner.p50Ms,
    ownerP99Ms: owner.p99Ms,
    forwardedP50Ms: forwarded.p50Ms,
    forwardedP99Ms: forwarded.p99Ms,
    failoverMs,
    cpuUsPerOrder: { single: baseline.cpuUsPerOrder, owner: owner.cpuUsPerOrder, forwarded: forwarded.cpuUsPerOrder },
  }),
);
process.exit(0);
