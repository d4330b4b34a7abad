// In-process latency of the risk gateway's pre-trade check chain: every check on the
// path (session, halts, kill switch, restricted list, duplicate client order id,
// throttle, max quantity, max value, price collar, position and credit limits), on a
// stream of varied orders against an account with every limit set. Each call is timed
// with process.hrtime.bigint() (one clock read included in each sample).
//   npm run -s bench:risk -- [--orders 1000000]
// Last line: {"checks":N,"p50Ns":..,"p99Ns":..,"p999Ns":..,"maxNs":..,"checksPerSec":X}
import { checkNewOrder, type CheckContext } from "@tradeplane/risk-checks/checks";
import { effectiveLimits } from "@tradeplane/risk-checks/limits";
import { newOrderRateWindow } from "@tradeplane/risk-checks/order-rate-window";
import { Histogram } from "./lib/histogram.ts";
import { numericFlags } from "./support/venue.ts";

const flags = numericFlags({ orders: 1_000_000 });
const limits = effectiveLimits({
  maxOrderQty: 5_000,
  maxOrderNotional: 500_000_000,
  priceCollarBps: 500,
  maxPosition: 1_000_000,
  creditLimit: 10_000_000_000_000,
  maxOrdersPerSecond: 1_000_000_000,
  restrictedInstruments: ["RESTRICTED"],
});
const clientOrderIds = new Set(Array.from({ length: 1_000 }, (_, i) => `live-${i}`));
const order = { account: "a1", instrument: "INFY", side: 1, price: 150_000, qty: 10, clientOrderId: "c" };
const account = {
  authenticated: true,
  permitted: true,
  disabled: false,
  killSwitch: false,
  limits,
  clientOrderIds,
  throttle: newOrderRateWindow(),
  position: 0,
  openBuyQty: 0,
  openSellQty: 0,
  openExposure: 0,
};
const ctx: { -readonly [K in keyof CheckContext]: CheckContext[K] } = {
  order,
  account,
  instrument: { halted: false, lastPrice: 150_000, referencePrice: 149_000, notionalPerTickLot: 5 },
  venueHalted: false,
  venueKillSwitch: false,
  nowNs: 0,
};
const ids = Array.from({ length: 4_096 }, (_, i) => `order-${i}`);

function run(n: number, histogram: Histogram | undefined): number {
  let rejected = 0;
  for (let i = 0; i < n; i++) {
    const o = order as { -readonly [K in keyof typeof order]: (typeof order)[K] };
    o.side = (i & 1) + 1;
    o.price = 148_000 + (i % 4_000);
    o.qty = 1 + (i % 700); // above 666 lots the notional limit refuses (about 5% of orders)
    o.clientOrderId = ids[i & 4_095]!;
    ctx.nowNs = i * 1_000;
    const t0 = histogram === undefined ? 0n : process.hrtime.bigint();
    const reason = checkNewOrder(ctx);
    if (histogram !== undefined) histogram.record(Number(process.hrtime.bigint() - t0));
    if (reason !== 0) rejected++;
  }
  return rejected;
}

run(200_000, undefined); // warm-up: let V8 optimise the chain
const histogram = new Histogram();
const t0 = performance.now();
const rejected = run(flags.orders, histogram);
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    checks: flags.orders,
    rejected,
    p50Ns: histogram.quantile(0.5),
    p99Ns: histogram.quantile(0.99),
    p999Ns: histogram.quantile(0.999),
    maxNs: histogram.max,
    checksPerSec: Math.round(flags.orders / seconds),
  }),
);
