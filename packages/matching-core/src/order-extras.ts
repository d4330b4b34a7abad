/** Rarely used order fields; pass one reusable object (or nothing). Missing fields are 0. */
export interface OrderExtras {
  /** OrderFlags bits (POST_ONLY). */
  flags?: number;
  /** Trigger price of STOP_MARKET / STOP_LIMIT orders. */
  stopPrice?: number;
  /** Disclosed (iceberg) quantity; 0 = all shown. */
  displayQty?: number;
  /** Self-trade prevention group: orders of one non-zero group never trade with each other. */
  stpGroup?: number;
  /** StpMode applied when this order is the incoming one; default CANCEL_RESTING. */
  stpMode?: number;
  /** Expiry of GTD orders (ns, compared with the time of `expire` commands). */
  expireTimeNs?: number;
}

/** Creates a full-shape extras object to reuse across calls. */
export function createOrderExtras(): Required<OrderExtras> {
  return { flags: 0, stopPrice: 0, displayQty: 0, stpGroup: 0, stpMode: 0, expireTimeNs: 0 };
}
