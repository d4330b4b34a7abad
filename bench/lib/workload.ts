import { readFileSync } from "node:fs";

/** Line kinds of the shared workload format (../shared/bench/README.md). */
export const Op = { NEW_LIMIT: 0, NEW_MARKET: 1, CANCEL: 2, REPLACE: 3 } as const;

/**
 * A parsed workload: one entry per line, struct of arrays. `side` is 1 = buy, 2 = sell (for C
 * and R lines: the side of the order they target, known from its N line).
 */
export interface Workload {
  readonly count: number;
  readonly op: Uint8Array;
  readonly id: Float64Array;
  readonly side: Uint8Array;
  readonly price: Float64Array;
  readonly qty: Float64Array;
  readonly maxId: number;
}

/** Parses the whole file up front (not timed): a byte scanner, no per-line strings. */
export function parseWorkload(path: string): Workload {
  const buf = readFileSync(path);
  let lines = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10) lines++;
  if (buf.length > 0 && buf[buf.length - 1] !== 10) lines++;
  const op = new Uint8Array(lines);
  const id = new Float64Array(lines);
  const side = new Uint8Array(lines);
  const price = new Float64Array(lines);
  const qty = new Float64Array(lines);
  let sides = new Uint8Array(1 << 20);
  let maxId = 0;
  let pos = 0;
  let n = 0;
  const num = (): number => {
    let v = 0;
    let c = buf[pos]!;
    if (c < 48 || c > 57) throw new Error(`workload line ${n + 1}: expected a number`);
    while (pos < buf.length && (c = buf[pos]!) >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      pos++;
    }
    return v;
  };
  const comma = (): void => {
    if (buf[pos] !== 44) throw new Error(`workload line ${n + 1}: expected ','`);
    pos++;
  };
  while (pos < buf.length) {
    const kind = buf[pos]!;
    if (kind === 10) {
      pos++;
      continue;
    }
    pos++;
    comma();
    const oid = num();
    id[n] = oid;
    if (oid > maxId) maxId = oid;
    if (oid >= sides.length) {
      let cap = sides.length * 2;
      while (cap <= oid) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(sides);
      sides = next;
    }
    if (kind === 78 /* N */) {
      comma();
      const s = buf[pos++] === 66 /* B */ ? 1 : 2;
      comma();
      const t = buf[pos++];
      comma();
      price[n] = num();
      comma();
      qty[n] = num();
      op[n] = t === 77 /* M */ ? Op.NEW_MARKET : Op.NEW_LIMIT;
      side[n] = s;
      sides[oid] = s;
    } else if (kind === 67 /* C */) {
      op[n] = Op.CANCEL;
      side[n] = sides[oid]!;
    } else if (kind === 82 /* R */) {
      comma();
      price[n] = num();
      comma();
      qty[n] = num();
      op[n] = Op.REPLACE;
      side[n] = sides[oid]!;
    } else throw new Error(`workload line ${n + 1}: unknown kind ${String.fromCharCode(kind)}`);
    if (pos < buf.length && buf[pos] === 13) pos++;
    if (pos < buf.length && buf[pos] !== 10) throw new Error(`workload line ${n + 1}: trailing characters`);
    pos++;
    n++;
  }
  return { count: n, op, id, side, price, qty, maxId };
}
