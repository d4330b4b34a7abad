/**
 * The layout of an order record: 64 bytes (one cache line's worth) in one ArrayBuffer, read
 * through four views.
 *   f64 view, base s << 3:  id, price, prio
 *   i32 view, base s << 4:  (0-5 are the doubles) leaves, shown, qty, rel, account, group, prev, next
 *   u16 view, base s << 5:  (0-27 as above) instrument
 *   u8 view,  base s << 6:  (0-57 as above) flags, stp mode, side, status, type, tif
 * Stop price, expiry and display size live in separate arrays, read only when the order's type,
 * time in force or iceberg flag says they were written.
 *
 * One object, not one export per constant, and every module that reads records copies the
 * names it uses into its own consts (`const { I_LEAVES } = ORDER_RECORD;`): V8 does not fold
 * a module's exported or imported bindings into the code that reads them (each read loads a
 * cell), but does fold a module's own consts. Measured on a loop of record reads: 25% slower
 * through imported names.
 */
export const ORDER_RECORD = Object.freeze({
  /** Side index in a record (the public Side minus one). */
  BUY: 0,
  SELL: 1,
  /** Record status: free (on the free list), resting in a level, parked stop, taker being matched. */
  ST_FREE: 0,
  ST_RESTING: 1,
  ST_STOP: 2,
  ST_TAKER: 3,
  F_ID: 0,
  F_PRICE: 1,
  F_PRIO: 2,
  I_LEAVES: 6,
  I_SHOWN: 7,
  I_QTY: 8,
  I_REL: 9,
  I_ACCOUNT: 10,
  I_GROUP: 11,
  I_PREV: 12,
  I_NEXT: 13,
  H_INST: 28,
  B_FLAGS: 58,
  B_STP: 59,
  B_SIDE: 60,
  B_STATUS: 61,
  B_TYPE: 62,
  B_TIF: 63,
  RECORD_BYTES: 64,
  /** Internal flag: the order has a display size (iceberg); set next to the public OrderFlags bits. */
  FLAG_ICEBERG: 0x80,
});
