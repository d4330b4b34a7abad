/**
 * Step 3: a taker driven by trades and a timer. It keeps the average of the last trades
 * (`onTrade`), and every `everyMs` (`setTimer`, `onTimer`) it takes the best price with an
 * immediate-or-cancel order when the last trade strayed `thresholdTicks` or more from that
 * average, betting on the way back, never beyond ±`maxPosition` lots. It shows orders that
 * take liquidity, time in a strategy (the host's clock: the flow's time in a backtest, so
 * the result is the same on every run), and reading a refusal. Parameters: `lookback`
 * (trades, 20), `thresholdTicks` (2), `qty` (lots, 5), `maxPosition` (lots, 100),
 * `everyMs` (250).
 *
 *   tradeplane backtest --strategy-module examples/strategies/03-mean-reversion-taker.ts \
 *     --param thresholdTicks=3 --workload FILE
 */
import { OrderType, Side, TimeInForce } from "@tradeplane/contracts";
import type { Strategy } from "@tradeplane/sdk";

const num = (v: unknown, fallback: number): number => (typeof v === "number" ? v : fallback);

export function strategy(params: Readonly<Record<string, unknown>>, instruments: readonly string[]): Strategy {
  const lookback = num(params.lookback, 20);
  const threshold = num(params.thresholdTicks, 2);
  const qty = num(params.qty, 5);
  const maxPosition = num(params.maxPosition, 100);
  const everyMs = num(params.everyMs, 250);
  // Per instrument, the last `lookback` trade prices in a ring and their sum.
  const rings = new Map<string, { prices: number[]; next: number; sum: number }>();
  return {
    onStart(ctx) {
      ctx.setTimer("decide", everyMs);
    },
    onTrade(_ctx, trade) {
      if (!instruments.includes(trade.instrument)) return;
      let r = rings.get(trade.instrument);
      if (r === undefined) rings.set(trade.instrument, (r = { prices: [], next: 0, sum: 0 }));
      if (r.prices.length < lookback) r.prices.push(trade.price);
      else {
        r.sum -= r.prices[r.next]!;
        r.prices[r.next] = trade.price;
        r.next = (r.next + 1) % lookback;
      }
      r.sum += trade.price;
    },
    onTimer(ctx) {
      for (const instrument of instruments) {
        const r = rings.get(instrument);
        const last = ctx.market.lastPrice(instrument);
        if (r === undefined || r.prices.length < lookback || last === 0) continue;
        // Integer ticks: compare last x n with the sum, no floating average.
        const stray = last * r.prices.length - r.sum;
        const net = ctx.position(instrument).netQty;
        const side =
          stray >= threshold * r.prices.length
            ? Side.SELL
            : stray <= -threshold * r.prices.length
              ? Side.BUY
              : undefined;
        if (side === undefined) continue;
        if (
          (side === Side.BUY ? net + qty : net - qty) > maxPosition ||
          (side === Side.BUY ? net + qty : net - qty) < -maxPosition
        )
          continue;
        const best = side === Side.BUY ? ctx.market.bestAsk(instrument) : ctx.market.bestBid(instrument);
        if (best === undefined) continue;
        const sent = ctx.submit({
          instrument,
          side,
          price: best.price,
          qty,
          orderType: OrderType.LIMIT,
          timeInForce: TimeInForce.IOC,
        });
        // Refused by the account's limits before it left (the gateway would refuse it too).
        if (!sent.ok) ctx.log("order refused", { check: sent.check, reason: sent.reason });
      }
    },
  };
}
