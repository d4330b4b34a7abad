import { Side } from "@tradeplane/contracts";

/**
 * Positions and P&L of one account in one instrument, projected from the engine's
 * events (the CQRS read side: never a second source of truth). Realised P&L uses FIFO
 * lot matching, which stays exact in integers: each closing fill is matched against
 * the oldest open lots at their own prices.
 *
 * All prices in ticks, quantities in lots, money in minor units
 * (price x qty x notionalPerTickLot).
 */
export interface Position {
  /** Long > 0, short < 0, in lots. */
  netQty: number;
  boughtQty: number;
  soldQty: number;
  /** Working quantity of open buy and sell orders. */
  openBuyQty: number;
  openSellQty: number;
  /** Gross notional of open orders (both sides), minor units. */
  openExposure: number;
  realisedPnl: number;
  /** Cost of the open position at entry prices, minor units (negative for shorts). */
  openCost: number;
  /** Last trade price of the instrument the position is marked to, in ticks; 0 if none. */
  markPrice: number;
  /** FIFO open lots: [price, qty, price, qty, ...]; qty signed like netQty. */
  readonly lots: number[];
}

export function newPosition(): Position {
  return {
    netQty: 0,
    boughtQty: 0,
    soldQty: 0,
    openBuyQty: 0,
    openSellQty: 0,
    openExposure: 0,
    realisedPnl: 0,
    openCost: 0,
    markPrice: 0,
    lots: [],
  };
}

/** Applies one fill of `qty` lots at `price` on `side`. */
export function applyFill(
  position: Position,
  side: number,
  price: number,
  qty: number,
  notionalPerTickLot: number,
): void {
  const signed = side === Side.BUY ? qty : -qty;
  if (side === Side.BUY) position.boughtQty += qty;
  else position.soldQty += qty;
  let remaining = signed;
  const lots = position.lots;
  // Close against the oldest opposite lots first.
  while (remaining !== 0 && lots.length > 0 && Math.sign(lots[1]!) !== Math.sign(remaining)) {
    const lotPrice = lots[0]!;
    const lotQty = lots[1]!;
    const closing = Math.min(Math.abs(lotQty), Math.abs(remaining));
    // A long lot closed by a sell gains (exit - entry); a short lot closed by a buy gains (entry - exit).
    const perLot = lotQty > 0 ? price - lotPrice : lotPrice - price;
    position.realisedPnl += perLot * closing * notionalPerTickLot;
    const lotSign = Math.sign(lotQty);
    position.openCost -= lotSign * lotPrice * closing * notionalPerTickLot;
    if (closing === Math.abs(lotQty)) lots.splice(0, 2);
    else lots[1] = lotQty - lotSign * closing;
    remaining += lotSign * closing;
  }
  if (remaining !== 0) {
    const last = lots.length - 2;
    if (last >= 0 && lots[last] === price) lots[last + 1]! += remaining;
    else lots.push(price, remaining);
    position.openCost += price * remaining * notionalPerTickLot;
  }
  position.netQty += signed;
  position.markPrice = price;
}

/** Unrealised P&L marked to `markPrice` (or the position's own last fill price). */
export function unrealisedPnl(position: Position, notionalPerTickLot: number, markPrice = position.markPrice): number {
  if (position.netQty === 0 || markPrice <= 0) return 0;
  return markPrice * position.netQty * notionalPerTickLot - position.openCost;
}

/** An order started working: count it toward open quantity and exposure. */
export function openOrder(
  position: Position,
  side: number,
  price: number,
  qty: number,
  notionalPerTickLot: number,
): void {
  if (side === Side.BUY) position.openBuyQty += qty;
  else position.openSellQty += qty;
  position.openExposure += price * qty * notionalPerTickLot;
}

/** Some working quantity left (filled, cancelled, expired, or reduced by a replace). */
export function closeOrder(
  position: Position,
  side: number,
  price: number,
  qty: number,
  notionalPerTickLot: number,
): void {
  if (side === Side.BUY) position.openBuyQty -= qty;
  else position.openSellQty -= qty;
  position.openExposure -= price * qty * notionalPerTickLot;
}
