// A parsed FIX message as a view over the bytes it came in: per field the tag and where
// its value starts and ends, in typed arrays reused from message to message. Reading a
// number, a char, a decimal or a timestamp allocates nothing; a string is made only when
// asked for (e.g. a ClOrdID on its way to OrderEntry).

import { readUtcTimestamp } from "./fix-time.ts";
import { latin1 } from "./latin1.ts";

/** Tags below this are found through a direct index; higher ones by a scan. */
const INDEXED_TAGS = 1024;
/** Most fields one message may hold (a bound on hostile input): an index fits in 10 bits. */
export const MAX_FIELDS = 1024;
/** FixMessage's stamps wrap here (the table is cleared once every 2 million messages). */
const STAMP_LIMIT = 2 ** 31 - INDEXED_TAGS;

const SOH = 0x01;

/** interned(): a fixed table shared by all messages, a slot per hash (a newer value replaces an older one). */
const INTERN_SLOTS = 1024;
const MAX_INTERNED = 32;
const internTable: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);

/** Known MsgType values as interned strings, keyed by their one or two byte code. */
const MSG_TYPES = new Map<number, string>();
for (const t of ["0", "1", "2", "3", "4", "5", "8", "9", "A", "D", "F", "G", "H", "j", "q", "r", "AE", "BE", "BF"])
  MSG_TYPES.set(t.length === 1 ? t.charCodeAt(0) : t.charCodeAt(0) | (t.charCodeAt(1) << 8), t);

export class FixMessage {
  /** The bytes the message's fields point into (valid until the next parse). */
  buf: Uint8Array = new Uint8Array(0);
  /** Offsets of the whole message (from "8=" to after the checksum's SOH). */
  start = 0;
  end = 0;
  count = 0;
  readonly tags = new Int32Array(MAX_FIELDS);
  readonly valueStarts = new Int32Array(MAX_FIELDS);
  readonly valueEnds = new Int32Array(MAX_FIELDS);
  /** First tag seen twice, 0 if none (legal only inside repeating groups). */
  duplicateTag = 0;
  /** Set by decimal(): the value is mantissa x 10^exponent. */
  mantissa = 0;
  exponent = 0;
  /**
   * Per tag below INDEXED_TAGS: the index of its first field (low 10 bits) and the stamp of
   * the message that set it (the bits above), so a new message needs no clearing and one
   * read tells both whether the tag is in it and where.
   */
  private readonly firstIndex = new Int32Array(INDEXED_TAGS);
  /** This message's stamp, a multiple of 1024 below STAMP_LIMIT (stamp + index stays a positive int32). */
  private stamp = 0;

  /** Starts a new message over `buf` (called by the parser). */
  reset(buf: Uint8Array, start: number): void {
    this.buf = buf;
    this.start = start;
    this.end = start;
    this.count = 0;
    this.duplicateTag = 0;
    this.stamp += INDEXED_TAGS;
    if (this.stamp >= STAMP_LIMIT) {
      this.firstIndex.fill(0);
      this.stamp = INDEXED_TAGS;
    }
  }

  /** Appends a field (called by the parser); false when the message has too many fields. */
  add(tag: number, valueStart: number, valueEnd: number): boolean {
    const i = this.count;
    if (i >= MAX_FIELDS) return false;
    this.tags[i] = tag;
    this.valueStarts[i] = valueStart;
    this.valueEnds[i] = valueEnd;
    this.count = i + 1;
    if (tag >= INDEXED_TAGS) this.noteHighTag(tag, i);
    else if (this.firstIndex[tag]! < this.stamp) this.firstIndex[tag] = this.stamp + i;
    else if (this.duplicateTag === 0) this.duplicateTag = tag;
    return true;
  }

  /** add() for a tag above the direct index: a duplicate is found by a scan. */
  private noteHighTag(tag: number, i: number): void {
    if (this.duplicateTag !== 0) return;
    for (let j = 0; j < i; j++)
      if (this.tags[j] === tag) {
        this.duplicateTag = tag;
        return;
      }
  }

  /** Index of the first field with `tag`, or -1. */
  indexOf(tag: number): number {
    if (tag < INDEXED_TAGS)
      return tag >= 0 && this.firstIndex[tag]! >= this.stamp ? this.firstIndex[tag]! - this.stamp : -1;
    for (let i = 0; i < this.count; i++) if (this.tags[i] === tag) return i;
    return -1;
  }

  has(tag: number): boolean {
    return this.indexOf(tag) >= 0;
  }

  /** MsgType (35), interned for the known types; "" when absent. */
  get msgType(): string {
    const i = this.indexOf(35);
    if (i < 0) return "";
    const s = this.valueStarts[i]!;
    const len = this.valueEnds[i]! - s;
    if (len === 1 || len === 2) {
      const code = len === 1 ? this.buf[s]! : this.buf[s]! | (this.buf[s + 1]! << 8);
      const known = MSG_TYPES.get(code);
      if (known !== undefined) return known;
    }
    return this.stringAt(i);
  }

  /** The value as a string (latin1), or undefined when absent. */
  string(tag: number): string | undefined {
    const i = this.indexOf(tag);
    return i < 0 ? undefined : this.stringAt(i);
  }

  stringAt(i: number): string {
    return latin1(this.buf, this.valueStarts[i]!, this.valueEnds[i]!);
  }

  /**
   * The value as a string from a small table of recent values (Symbol, Account: the same
   * few strings in every message), so a repeated value allocates nothing; undefined when
   * absent. Values longer than 32 bytes are made as string() makes them.
   */
  interned(tag: number): string | undefined {
    const i = this.indexOf(tag);
    if (i < 0) return undefined;
    const buf = this.buf;
    const s = this.valueStarts[i]!;
    const e = this.valueEnds[i]!;
    if (e - s > MAX_INTERNED) return latin1(buf, s, e);
    let h = e - s;
    for (let k = s; k < e; k++) h = (Math.imul(h, 31) + buf[k]!) | 0;
    const slot = h & (INTERN_SLOTS - 1);
    const known = internTable[slot];
    if (known !== undefined && known.length === e - s) {
      let same = true;
      for (let k = 0; k < known.length; k++)
        if (known.charCodeAt(k) !== buf[s + k]) {
          same = false;
          break;
        }
      if (same) return known;
    }
    const made = latin1(buf, s, e);
    internTable[slot] = made;
    return made;
  }

  /** Length in bytes of the value, or -1 when absent. */
  length(tag: number): number {
    const i = this.indexOf(tag);
    return i < 0 ? -1 : this.valueEnds[i]! - this.valueStarts[i]!;
  }

  /** The first byte of a one-character value, -1 when absent, -2 when longer than one byte. */
  char(tag: number): number {
    const i = this.indexOf(tag);
    if (i < 0) return -1;
    const s = this.valueStarts[i]!;
    return this.valueEnds[i]! - s === 1 ? this.buf[s]! : -2;
  }

  /** A Boolean (Y/N): 1, 0, -1 when absent, -2 when neither Y nor N. */
  bool(tag: number): number {
    const c = this.char(tag);
    return c === 0x59 ? 1 : c === 0x4e ? 0 : c === -1 ? -1 : -2;
  }

  /** An integer value (optionally negative), `absent` when missing, NaN when malformed. */
  int(tag: number, absent = NaN): number {
    const i = this.indexOf(tag);
    return i < 0 ? absent : this.intAt(i);
  }

  intAt(i: number): number {
    return readInt(this.buf, this.valueStarts[i]!, this.valueEnds[i]!);
  }

  /**
   * Reads a decimal (price, quantity) into `mantissa` and `exponent` without floating
   * point; false when absent or malformed (more than 15 significant digits included).
   */
  decimal(tag: number): boolean {
    const i = this.indexOf(tag);
    return i >= 0 && this.decimalAt(i);
  }

  decimalAt(i: number): boolean {
    const buf = this.buf;
    let p = this.valueStarts[i]!;
    const end = this.valueEnds[i]!;
    let negative = false;
    if (p < end && buf[p] === 0x2d) {
      negative = true;
      p++;
    }
    const first = p;
    let mantissa = 0;
    let d = 0;
    // Digits, then optionally a point and more digits; (d >>> 0) <= 9 is "a digit" in one compare.
    while (p < end && (d = buf[p]! - 0x30) >>> 0 <= 9) {
      mantissa = mantissa * 10 + d;
      p++;
    }
    let digits = p - first;
    let exponent = 0;
    if (p < end && buf[p] === 0x2e) {
      const fraction = ++p;
      while (p < end && (d = buf[p]! - 0x30) >>> 0 <= 9) {
        mantissa = mantissa * 10 + d;
        p++;
      }
      exponent = fraction - p;
      digits += p - fraction;
    }
    // Anything left is not a decimal; 15 significant digits at most (exact in a double).
    if (p !== end || digits === 0 || mantissa >= 1e15) return false;
    // Trailing zeros of the fraction say nothing: 100.50 is 1005 x 10^-1.
    while (exponent < 0 && mantissa % 10 === 0 && mantissa !== 0) {
      mantissa /= 10;
      exponent++;
    }
    if (mantissa === 0) exponent = 0;
    this.mantissa = negative ? -mantissa : mantissa;
    this.exponent = exponent;
    return true;
  }

  /** A UTCTimestamp as epoch milliseconds; NaN when absent or malformed. */
  timestamp(tag: number): number {
    const i = this.indexOf(tag);
    return i < 0 ? NaN : readUtcTimestamp(this.buf, this.valueStarts[i]!, this.valueEnds[i]!);
  }

  /** Whether the value equals `ascii` (pre-encoded bytes), without making a string. */
  equals(tag: number, ascii: Uint8Array): boolean {
    const i = this.indexOf(tag);
    if (i < 0) return false;
    const s = this.valueStarts[i]!;
    if (this.valueEnds[i]! - s !== ascii.length) return false;
    for (let k = 0; k < ascii.length; k++) if (this.buf[s + k] !== ascii[k]) return false;
    return true;
  }

  /** A copy of the whole message's bytes (for logs and stores). */
  copy(): Buffer {
    return Buffer.from(this.buf.subarray(this.start, this.end));
  }

  /** The message as text with "|" for SOH, for logs and test failures. */
  toString(): string {
    return latin1(this.buf, this.start, this.end).replaceAll("\x01", "|");
  }
}

/** Integer in buf[start, end): optional "-", 1 to 15 digits; NaN otherwise. */
export function readInt(buf: Uint8Array, start: number, end: number): number {
  let p = start;
  let negative = false;
  if (p < end && buf[p] === 0x2d) {
    negative = true;
    p++;
  }
  if (p === end || end - p > 15) return NaN;
  let v = 0;
  for (; p < end; p++) {
    const d = buf[p]! - 0x30;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

export { SOH };
