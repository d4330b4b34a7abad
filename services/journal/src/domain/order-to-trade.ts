/**
 * Order-to-trade ratio per account and trading day, as exchanges report it (SEBI's OTR):
 * the order messages an account sent that the engine acted on, entries, modifications and
 * cancellations it asked for, per execution of the account. Cancellations the venue made
 * (IOC remainders, halts, kill switches, self-trade prevention) are not the account's
 * messages and do not count.
 */

export interface OrderMessageCounts {
  readonly account: string;
  readonly entries: number;
  readonly modifications: number;
  readonly cancellations: number;
  readonly trades: number;
}

export interface OrderToTradeRatio extends OrderMessageCounts {
  readonly orders: number;
  /** orders / trades in thousandths, rounded down; orders x 1000 with no trade. */
  readonly ratioMilli: number;
}

/** The ratios of counted accounts, sorted by account; accounts with no order message are left out. */
export function orderToTradeRatios(counts: readonly OrderMessageCounts[]): OrderToTradeRatio[] {
  return counts
    .map((c) => {
      const orders = c.entries + c.modifications + c.cancellations;
      return { ...c, orders, ratioMilli: Math.floor((orders * 1000) / Math.max(1, c.trades)) };
    })
    .filter((r) => r.orders > 0)
    .sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
}
