import { Side, type EngineEvent } from "@tradeplane/contracts";
import { applyFill, newPosition } from "@tradeplane/positions";

/**
 * What the journal's tables must hold, recomputed straight from the events in command order,
 * without the projector's code: the reference the projection is compared with.
 */
export function recompute(events: readonly EngineEvent[]) {
  const sorted = [...events].sort((a, b) => a.commandSeq - b.commandSeq || a.index - b.index);
  const trades: string[] = [];
  const positions = new Map<
    string,
    { net: number; bought: number; sold: number; boughtValue: number; soldValue: number }
  >();
  const orders = new Map<number, { status: string; leaves: number; price: number; qty: number; account: string }>();
  let orderEvents = 0;
  const fill = (account: string, instrument: string, side: Side, price: number, qty: number): void => {
    const key = `${account}/${instrument}`;
    const p = positions.get(key) ?? { net: 0, bought: 0, sold: 0, boughtValue: 0, soldValue: 0 };
    // The positions package's arithmetic, as the risk gateway applies a fill.
    const arithmetic = newPosition();
    arithmetic.netQty = p.net;
    arithmetic.boughtQty = p.bought;
    arithmetic.soldQty = p.sold;
    applyFill(arithmetic, side, price, qty, 1);
    p.net = arithmetic.netQty;
    p.bought = arithmetic.boughtQty;
    p.sold = arithmetic.soldQty;
    if (side === Side.BUY) p.boughtValue += price * qty;
    else p.soldValue += price * qty;
    positions.set(key, p);
  };
  for (const e of sorted) {
    const b = e.body;
    if (b === undefined || b.$case === "bookDelta") continue;
    orderEvents += b.$case === "trade" ? 2 : 1;
    switch (b.$case) {
      case "accepted":
        orders.set(b.value.orderId, {
          status: "NEW",
          leaves: b.value.qty,
          price: b.value.price,
          qty: b.value.qty,
          account: b.value.account,
        });
        break;
      case "trade": {
        const t = b.value;
        trades.push(
          `${e.commandSeq}/${e.index} ${e.instrument} ${t.price}x${t.qty} ${t.makerOrderId}<-${t.takerOrderId}`,
        );
        const makerSide = t.aggressorSide === Side.BUY ? Side.SELL : Side.BUY;
        fill(t.makerAccount, e.instrument, makerSide, t.price, t.qty);
        fill(t.takerAccount, e.instrument, t.aggressorSide, t.price, t.qty);
        for (const [id, leaves] of [
          [t.makerOrderId, t.makerLeavesQty],
          [t.takerOrderId, t.takerLeavesQty],
        ] as const) {
          const o = orders.get(id)!;
          o.leaves = leaves;
          o.status = leaves > 0 ? "PARTIALLY_FILLED" : "FILLED";
        }
        break;
      }
      case "cancelled":
      case "expired": {
        const o = orders.get(b.value.orderId)!;
        o.leaves = 0;
        o.status = b.$case === "cancelled" ? "CANCELLED" : "EXPIRED";
        break;
      }
      case "replaced": {
        const o = orders.get(b.value.orderId)!;
        o.price = b.value.price;
        o.qty = b.value.qty;
        o.leaves = b.value.leavesQty;
        break;
      }
      default:
        break;
    }
  }
  return {
    trades: trades.sort(),
    orderEvents,
    positions: [...positions.entries()].map(([key, p]) => ({ key, ...p })).sort((a, b) => (a.key < b.key ? -1 : 1)),
    orders: [...orders.entries()].map(([id, o]) => ({ id, ...o })).sort((a, b) => a.id - b.id),
  };
}
