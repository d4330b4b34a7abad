/**
 * Whether a live object already holds every field of a desired one. The API server adds
 * defaults and fields of other managers, so "equal" means: each desired field is present
 * with the same value; lists have the same length and match item by item. Quantities
 * are compared as the API server writes them back ("1" and 1 are one CPU). Pure.
 */
export function holdsDesired(live: unknown, desired: unknown): boolean {
  if (desired === null || desired === undefined) return true;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((d, i) => holdsDesired(live[i], d));
  }
  if (typeof desired === "object") {
    if (typeof live !== "object" || live === null || Array.isArray(live)) return false;
    const record = live as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => holdsDesired(record[k], v));
  }
  if (typeof desired === "number" || typeof live === "number") return String(live) === String(desired);
  return live === desired;
}
