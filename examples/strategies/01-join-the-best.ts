/**
 * Step 1 of the strategy learning path: the smallest useful strategy. It joins the best
 * bid and the best offer with a fixed size, and pulls both quotes when the instrument
 * stops trading. Every order passes the account's limits in the SDK before it is sent.
 *
 *   tradeplane backtest --module examples/strategies/01-join-the-best.ts --workload FILE
 */
import { InstrumentState } from "@tradeplane/contracts";
import { othersBest } from "@tradeplane/strategies";
import { quote, type Strategy } from "@tradeplane/sdk";
import { Side } from "@tradeplane/contracts";

const SIZE = 5;

export function strategy(_params: Readonly<Record<string, unknown>>, instruments: readonly string[]): Strategy {
  return {
    onBook(ctx, instrument) {
      if (!instruments.includes(instrument)) return;
      if (ctx.market.state(instrument) !== InstrumentState.CONTINUOUS) {
        quote(ctx, instrument, {});
        return;
      }
      // The best prices others show: joining our own quotes would chase ourselves.
      const bid = othersBest(ctx, instrument, Side.BUY);
      const ask = othersBest(ctx, instrument, Side.SELL);
      quote(ctx, instrument, {
        ...(bid !== undefined ? { bid: { price: bid, qty: SIZE } } : {}),
        ...(ask !== undefined ? { ask: { price: ask, qty: SIZE } } : {}),
      });
    },
  };
}
