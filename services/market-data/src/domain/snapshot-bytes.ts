/**
 * The bytes of a state snapshot: a growing writer and a bounds-checked reader of numbers,
 * strings and byte strings, and a CRC-32 that guards the whole. Any number is stored
 * exactly: a whole number of at most 2^51 in magnitude as a zigzag varint (one byte up to
 * 63, two up to 8,191, ...), anything else (fractions, -0, Infinity, NaN, larger numbers)
 * as a float64. Pure: no I/O.
 */

/** A snapshot that does not decode: not one, another version, corrupt, or inconsistent. */
export class StateSnapshotError extends Error {
  override readonly name = "StateSnapshotError";
}

const VARINT_MAX = 2 ** 51;
const F64_TAG = 1;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

export class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private at = 0;

  get length(): number {
    return this.at;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  /** A non-negative whole number below 2^53, 7 bits a byte. */
  private varint(v: number): void {
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.at++] = v;
  }

  /** Any number, exactly. */
  num(n: number): void {
    if (Number.isInteger(n) && Math.abs(n) <= VARINT_MAX && !Object.is(n, -0)) {
      // zigzag (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...), then doubled: even = whole number.
      this.varint((n >= 0 ? n * 2 : -n * 2 - 1) * 2);
      return;
    }
    this.u8(F64_TAG);
    this.room(8);
    this.view.setFloat64(this.at, n);
    this.at += 8;
  }

  bool(b: boolean): void {
    this.u8(b ? 1 : 0);
  }

  bytes(b: Uint8Array): void {
    this.num(b.length);
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  str(s: string): void {
    this.bytes(utf8.encode(s));
  }

  /** Raw bytes, no length. */
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.at, v);
    this.at += 4;
  }

  /** What was written so far (a view, not a copy). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }
}

export class ByteReader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private at: number;
  private readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.at = start;
    this.end = end;
  }

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.end - this.at;
  }

  private need(n: number, what: string): void {
    if (this.at + n > this.end) throw new StateSnapshotError(`${what}: truncated at byte ${this.at}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.at++]!;
  }

  private varint(what: string): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const b = this.u8(what);
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (i >= 7) throw new StateSnapshotError(`${what}: number too long at byte ${this.at}`);
    }
    return v;
  }

  /** Any number. */
  num(what: string): number {
    const v = this.varint(what);
    if (v === F64_TAG) {
      this.need(8, what);
      const n = this.view.getFloat64(this.at);
      this.at += 8;
      return n;
    }
    if (v % 2 !== 0) throw new StateSnapshotError(`${what}: not a number at byte ${this.at}`);
    const z = v / 2;
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** A whole number in [min, max]. */
  int(what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const n = this.num(what);
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new StateSnapshotError(`${what}: ${n} is not a whole number in [${min}, ${max}]`);
    return n;
  }

  /** A count of items that take at least one byte each (so a corrupt count cannot allocate much). */
  count(what: string): number {
    return this.int(what, 0, this.remaining);
  }

  bool(what: string): boolean {
    const b = this.u8(what);
    if (b > 1) throw new StateSnapshotError(`${what}: ${b} is not a boolean`);
    return b === 1;
  }

  bytes(what: string): Uint8Array {
    const n = this.count(what);
    this.need(n, what);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  str(what: string): string {
    try {
      return utf8Strict.decode(this.bytes(what));
    } catch (err) {
      if (err instanceof StateSnapshotError) throw err;
      throw new StateSnapshotError(`${what}: not UTF-8`);
    }
  }

  raw(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.at);
    this.at += 4;
    return v;
  }

  /** One of `values` (an enum's members). */
  oneOf<T extends number>(what: string, values: ReadonlySet<number>): T {
    const n = this.int(what, 0);
    if (!values.has(n)) throw new StateSnapshotError(`${what}: ${n} is not a known value`);
    return n as T;
  }
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib's) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
