import { ORDER_FIELD_GROUPS, type EventKey, type OrderFieldGroup, type OrderUpdate } from "../../src/domain/rows.ts";

/**
 * The plain fold mergeOrderUpdates was first written as (copy the order's object, then every
 * defined field of the update over it, except the four first-value terms): the reference
 * its field-by-field form is tested against.
 */
export function mergeOrderUpdatesReference(updates: readonly OrderUpdate[]): OrderUpdate[] {
  const merged = new Map<number, OrderUpdate>();
  const sorted = [...updates].sort((a, b) => a.lastCommandSeq - b.lastCommandSeq || a.lastIndex - b.lastIndex);
  for (const u of sorted) {
    const prev = merged.get(u.orderId);
    const next: Record<string, unknown> = { ...prev };
    for (const [field, value] of Object.entries(u)) if (value !== undefined) next[field] = value;
    if (prev !== undefined)
      for (const field of ["account", "side", "timeInForce", "acceptedCommandSeq"] as const)
        if (prev[field] !== undefined) next[field] = prev[field];
    const keys: Partial<Record<OrderFieldGroup, EventKey>> = { ...prev?.keys };
    for (const [group, fields] of Object.entries(ORDER_FIELD_GROUPS) as [OrderFieldGroup, readonly string[]][])
      if ((u as unknown as Record<string, unknown>)[fields[0]!] !== undefined)
        keys[group] = [u.lastCommandSeq, u.lastIndex];
    next.keys = keys;
    merged.set(u.orderId, next as unknown as OrderUpdate);
  }
  return [...merged.values()];
}
