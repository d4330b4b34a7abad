/**
 * Step 2: the same quotes, but aware of the position: it stops buying at +maxInventory and
 * stops selling at -maxInventory, reads its parameters, and logs each fill. Parameters:
 * `size` (lots, default 5) and `maxInventory` (lots, default 50).
 *
 *   tradeplane backtest --module examples/strategies/02-inventory-aware.ts \
 *     --param size=10 --param maxInventory=100 --workload FILE
 */
import { ExecType, InstrumentState, Side } from "@tradeplane/contracts";
import { othersBest } from "@tradeplane/strategies";
import { quote, type Strategy } from "@tradeplane/sdk";

export function strategy(params: Readonly<Record<string, unknown>>, instruments: readonly string[]): Strategy {
  const size = typeof params.size === "number" ? params.size : 5;
  const maxInventory = typeof params.maxInventory === "number" ? params.maxInventory : 50;
  return {
    onBook(ctx, instrument) {
      if (!instruments.includes(instrument)) return;
      if (ctx.market.state(instrument) !== InstrumentState.CONTINUOUS) return void quote(ctx, instrument, {});
      const net = ctx.position(instrument).netQty;
      const bid = othersBest(ctx, instrument, Side.BUY);
      const ask = othersBest(ctx, instrument, Side.SELL);
      const bidQty = Math.min(size, maxInventory - net);
      const askQty = Math.min(size, maxInventory + net);
      quote(ctx, instrument, {
        ...(bid !== undefined && bidQty > 0 ? { bid: { price: bid, qty: bidQty } } : {}),
        ...(ask !== undefined && askQty > 0 ? { ask: { price: ask, qty: askQty } } : {}),
      });
    },
    onExecutionReport(ctx, report) {
      if (report.execType === ExecType.TRADE)
        ctx.log("fill", { instrument: report.order?.instrument, price: report.lastPrice, qty: report.lastQty });
    },
  };
}
