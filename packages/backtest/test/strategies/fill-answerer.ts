/**
 * A test strategy whose every decision is keyed to an event, never to the clock or to
 * market data that may arrive late: it quotes a bid and an ask once at start, then answers
 * each of its fills with an order of the filled quantity on the other side, `step` away
 * from the fill's price (a take profit), while its position stays within `maxPosition`.
 * Run live and over the command log by the live-fills test.
 *
 * Parameters (integers, the venue's price units): instrument, bid, ask, qty, step, maxPosition.
 */
import { ExecType, Side } from "@tradeplane/contracts";
import type { Strategy } from "@tradeplane/sdk";

export function strategy(params: Readonly<Record<string, unknown>>, instruments: readonly string[]): Strategy {
  const instrument = typeof params.instrument === "string" ? params.instrument : instruments[0]!;
  const int = (name: string, fallback?: number): number => {
    const v = params[name] ?? fallback;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new RangeError(`${name}: give an integer`);
    return v;
  };
  const bid = int("bid");
  const ask = int("ask");
  const qty = int("qty");
  const step = int("step");
  const maxPosition = int("maxPosition", 1_000);
  return {
    onStart(ctx) {
      ctx.submit({ instrument, side: Side.BUY, price: bid, qty });
      ctx.submit({ instrument, side: Side.SELL, price: ask, qty });
    },
    onExecutionReport(ctx, report) {
      const order = report.order;
      if (report.execType !== ExecType.TRADE || order === undefined || order.instrument !== instrument) return;
      if (Math.abs(ctx.position(instrument).netQty) > maxPosition) return;
      const bought = order.side === Side.BUY;
      ctx.submit({
        instrument,
        side: bought ? Side.SELL : Side.BUY,
        price: bought ? report.lastPrice + step : report.lastPrice - step,
        qty: report.lastQty,
      });
    },
  };
}
