// Writes FIX tag=value messages into one reused buffer. The body is written first after a
// reserved gap; finish() then puts BeginString and BodyLength right before it and appends
// the CheckSum, so nothing is copied and nothing is measured twice. Every write adds its
// bytes to the running CheckSum as it stores them (one pass over the message, not two),
// integers are written as ASCII digits straight into the buffer, and a tag's "tag=" bytes
// and their sum come from a table made once. Bytes known ahead ("tag=", the bytes of a
// timestamp up to its second, the fixed fields, the frame) are stored four at a time
// through a DataView: with each store checked for bounds, a byte at a time cost a check
// per byte.

import { UtcTimestampWriter } from "./fix-time.ts";
import {
  PAIRS as SHARED_PAIRS,
  PAIR_SUMS as SHARED_PAIR_SUMS,
  PAIR_WORDS as SHARED_PAIR_WORDS,
} from "./digit-pairs.ts";

// Module constants of their own: optimised code reads an imported binding through a cell
// and checks it on every use, and folds a module constant's table into the code.
const PAIRS = SHARED_PAIRS;
const PAIR_SUMS = SHARED_PAIR_SUMS;
const PAIR_WORDS = SHARED_PAIR_WORDS;

const SOH = 0x01;
const EQ = 0x3d;
/** Room for "8=<BeginString><SOH>9=<up to 7 digits><SOH>". */
const HEADER_RESERVE = 32;
const DEFAULT_CAPACITY = 4096;
/** Tags below this have their "tag=" bytes precomputed. */
const TABLE_TAGS = 10_000;
const TAG_STRIDE = 5;
const TAG_BYTES = new Uint8Array(TABLE_TAGS * TAG_STRIDE);
const TAG_LENGTHS = new Uint8Array(TABLE_TAGS);
const TAG_SUMS = new Uint16Array(TABLE_TAGS);
/** Tags below this ("tag=" in at most four bytes) are written as one int, one store with no loop. */
const WORD_TAGS = 1000;
const TAG_WORDS = new Int32Array(WORD_TAGS);
/** For those tags: the length of "tag=" (low 8 bits) and its byte sum (above), one read for both. */
const TAG_INFO = new Int32Array(WORD_TAGS);
for (let tag = 0; tag < TABLE_TAGS; tag++) {
  const text = `${tag}=`;
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    TAG_BYTES[tag * TAG_STRIDE + i] = text.charCodeAt(i);
    sum += text.charCodeAt(i);
    if (tag < WORD_TAGS) TAG_WORDS[tag]! |= text.charCodeAt(i) << (8 * i);
  }
  TAG_LENGTHS[tag] = text.length;
  TAG_SUMS[tag] = sum;
  if (tag < WORD_TAGS) TAG_INFO[tag] = text.length | (sum << 8);
}

/** A finite safe integer: what a caller's bug (NaN, Infinity, 1e300) still writes as a number. */
function safe(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.trunc(Math.min(Math.max(value, -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER));
}

/** Whole fields encoded once ("49=VENUE<SOH>56=CLIENT<SOH>") with their byte sum, for fields every message repeats. */
export interface EncodedFields {
  readonly bytes: Uint8Array;
  readonly sum: number;
  /** `bytes` four to an int, little-endian, the last one padded with zeros. */
  readonly words: Int32Array;
}

/** Encodes string fields once, for FixEncoder.fields(). */
export function encodeFields(fields: readonly (readonly [number, string])[]): EncodedFields {
  const e = new FixEncoder("FIX.4.4", 256);
  e.start("0");
  const from = e.length;
  for (const [tag, value] of fields) e.string(tag, value);
  const bytes = Uint8Array.from(e.body().subarray(from));
  let sum = 0;
  for (const b of bytes) sum += b;
  return { bytes, sum, words: wordsOf(bytes) };
}

/** Bytes as little-endian int32 words, for DataView stores; the last word is padded with zeros. */
function wordsOf(bytes: Uint8Array): Int32Array {
  const words = new Int32Array((bytes.length + 3) >> 2);
  for (let i = 0; i < bytes.length; i++) words[i >> 2]! |= bytes[i]! << (8 * (i & 3));
  return words;
}

export class FixEncoder {
  private buf: Buffer;
  /** The same bytes as `buf`, for stores of two and four bytes. */
  private view: DataView;
  /** `buf`'s memory and where `buf` starts in it, for finish()'s view. */
  private arrayBuffer: ArrayBufferLike;
  private byteOffset: number;
  private pos = HEADER_RESERVE;
  /**
   * `buf.length` as a plain field: ensure() runs for every field, and optimised code reads a
   * Buffer's length only after checking that its memory is attached and the length small.
   */
  private capacity: number;
  /** Sum of the body's bytes written so far (the CheckSum before its mod 256). */
  private sum = 0;
  private readonly begin: Uint8Array;
  /**
   * "8=<BeginString><SOH>9=" as words, zero-padded at the front so that the last word ends
   * right before BodyLength's digits (a padding at the end would land on them, or on the body).
   */
  private readonly beginWords: Int32Array;
  private readonly beginPadding: number;
  private readonly beginSum: number;
  private readonly timestamps = new UtcTimestampWriter();

  constructor(beginString = "FIX.4.4", capacity = DEFAULT_CAPACITY) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 256));
    this.capacity = this.buf.length;
    this.view = viewOf(this.buf);
    this.arrayBuffer = this.buf.buffer;
    this.byteOffset = this.buf.byteOffset;
    this.begin = Buffer.from(`8=${beginString}\x01`, "latin1");
    // Room for the words' padding (up to 3 bytes) and 7 digits of BodyLength with its SOH:
    // BeginStrings of up to 16 bytes, as many as the parser takes.
    if (this.begin.length + 13 > HEADER_RESERVE) throw new RangeError(`BeginString too long: ${beginString}`);
    const head = Buffer.from(`8=${beginString}\x019=`, "latin1");
    this.beginPadding = (4 - (head.length & 3)) & 3;
    this.beginWords = wordsOf(Buffer.concat([Buffer.alloc(this.beginPadding), head]));
    this.beginSum = sumOf(this.begin);
  }

  /** Starts a message of `msgType`: the header fields after it are the caller's. */
  start(msgType: string): this {
    this.pos = HEADER_RESERVE;
    this.sum = 0;
    return this.string(35, msgType);
  }

  /**
   * A string field. Bytes that would break the framing (SOH, control characters,
   * non-ASCII) are written as "?": text from elsewhere never corrupts a message.
   */
  string(tag: number, value: string): this {
    const n = value.length;
    this.ensure(n + 13);
    this.tag(tag);
    const buf = this.buf;
    let p = this.pos;
    let sum = this.sum + SOH;
    for (let i = 0; i < n; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x20 || c >= 0x7f) c = 0x3f;
      buf[p++] = c;
      sum += c;
    }
    buf[p++] = SOH;
    this.pos = p;
    this.sum = sum;
    return this;
  }

  /** Raw bytes as they are (a data field whose length field the caller wrote). */
  bytes(tag: number, value: Uint8Array): this {
    this.ensure(value.length + 13);
    this.tag(tag);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    this.buf[this.pos++] = SOH;
    this.sum += sumOf(value) + SOH;
    return this;
  }

  /** Whole fields already encoded ("tag=value<SOH>..."), e.g. a stored message's body. */
  raw(fields: Uint8Array): this {
    this.ensure(fields.length);
    this.buf.set(fields, this.pos);
    this.pos += fields.length;
    this.sum += sumOf(fields);
    return this;
  }

  /** Fields encoded once by encodeFields(): a copy of their bytes, their sum known. */
  fields(fields: EncodedFields): this {
    const words = fields.words;
    const n = words.length;
    // The last word's padding lands past the fields, where the next write goes.
    this.ensure(4 * n);
    const view = this.view;
    const p = this.pos;
    for (let i = 0; i < n; i++) view.setInt32(p + 4 * i, words[i]!, true);
    this.pos = p + fields.bytes.length;
    this.sum += fields.sum;
    return this;
  }

  /** Bytes of the body written so far (from MsgType). */
  get length(): number {
    return this.pos - HEADER_RESERVE;
  }

  /** The body written so far, from MsgType on (a view, valid until the next write). */
  body(): Buffer {
    return this.buf.subarray(HEADER_RESERVE, this.pos);
  }

  /** One character (Side, OrdType, ...), as its code. */
  char(tag: number, code: number): this {
    this.ensure(14);
    this.tag(tag);
    this.buf[this.pos++] = code;
    this.buf[this.pos++] = SOH;
    this.sum += (code & 0xff) + SOH;
    return this;
  }

  bool(tag: number, value: boolean): this {
    return this.char(tag, value ? 0x59 : 0x4e);
  }

  /** An integer (safe integers; fractions are truncated). */
  int(tag: number, value: number): this {
    this.ensure(36);
    this.tag(tag);
    // An int32 (sequence numbers, counts) needs none of safe()'s clamping.
    this.pos = this.writeInt(this.pos, value === (value | 0) ? value | 0 : safe(value));
    this.buf[this.pos++] = SOH;
    this.sum += SOH;
    return this;
  }

  /** mantissa x 10^exponent as a plain decimal ("100.25", "0.005", "1200"). */
  decimal(tag: number, mantissa: number, exponent: number): this {
    // Prices and quantities of a venue nearly always fit in int32 with at most 9 decimals:
    // that case is integer arithmetic only, and small enough for V8 to inline into the
    // caller (the rest is decimalWide()).
    if (mantissa !== (mantissa | 0) || exponent > 0 || exponent < -9) return this.decimalWide(tag, mantissa, exponent);
    this.ensure(60);
    this.tag(tag);
    const buf = this.buf;
    let p = this.pos;
    let v = mantissa | 0;
    let sum = this.sum + SOH;
    if (v < 0) {
      buf[p++] = 0x2d;
      sum += 0x2d;
      v = -v; // -2^31 becomes 2^31, a double: writeDigitsBefore takes it
    }
    if (exponent === 0) {
      const end = p + digitCount(v);
      sum += writeDigitsBefore(buf, end, v, 1);
      p = end;
    } else {
      // The fraction's digits from the right by divisions by the constant 10 (a multiply;
      // a division by 10^scale is a real one), then the point, then the whole part.
      const scale = -exponent;
      const wholeDigits = digitCount(v) - scale;
      let q = p + (wholeDigits > 0 ? wholeDigits : 1) + 1 + scale;
      p = q;
      for (let k = 0; k < scale; k++) {
        const next = (v / 10) | 0; // v <= 2^31: the quotient fits
        const d = v - next * 10;
        buf[--q] = 0x30 + d;
        sum += 0x30 + d;
        v = next;
      }
      buf[--q] = 0x2e;
      sum += 0x2e + writeDigitsBefore(buf, q, v, 1);
    }
    buf[p++] = SOH;
    this.pos = p;
    this.sum = sum;
    return this;
  }

  /** decimal() beyond int32 or 9 decimals: in doubles. */
  private decimalWide(tag: number, mantissa: number, exponent: number): this {
    this.ensure(60);
    this.tag(tag);
    const buf = this.buf;
    let p = this.pos;
    let m = safe(mantissa);
    if (m < 0) {
      buf[p++] = 0x2d;
      this.sum += 0x2d;
      m = -m;
    }
    if (exponent >= 0) {
      p = this.writeInt(p, m);
      if (m !== 0)
        for (let i = 0; i < exponent && i < 20; i++) {
          buf[p++] = 0x30;
          this.sum += 0x30;
        }
      buf[p++] = SOH;
      this.pos = p;
      this.sum += SOH;
      return this;
    }
    // Integer part, point, then the fraction zero-padded to `scale` digits.
    const scale = Math.min(-exponent, 18);
    const pow = POW10[scale]!;
    let whole = Math.floor(m / pow);
    let fraction = m - whole * pow;
    if (fraction < 0) {
      whole--;
      fraction += pow;
    } else if (fraction >= pow) {
      whole++;
      fraction -= pow;
    }
    p = this.writeInt(p, whole);
    buf[p++] = 0x2e;
    const end = p + scale;
    const sum = this.sum + 0x2e + SOH + writeDigitsBefore(buf, end, fraction, scale);
    buf[end] = SOH;
    this.pos = end + 1;
    this.sum = sum;
    return this;
  }

  /** A UTCTimestamp with milliseconds. */
  timestamp(tag: number, epochMs: number): this {
    this.ensure(36);
    this.tag(tag);
    this.pos = this.timestamps.writeTo(this.view, this.pos, epochMs);
    this.buf[this.pos++] = SOH;
    this.sum += this.timestamps.sum + SOH;
    return this;
  }

  /**
   * Completes the message and returns it: a view into the encoder's buffer, valid until
   * the next start(); copy it to keep it.
   */
  finish(): Buffer {
    // Room for the CheckSum first (two words): a bigger buffer after `buf` was read would leave it stale.
    this.ensure(8);
    const buf = this.buf;
    const view = this.view;
    const bodyLength = this.pos - HEADER_RESERVE;
    const headerStart = HEADER_RESERVE - this.begin.length - 3 - digitCount(bodyLength);
    // "8=<BeginString><SOH>9=", its padding in the unused start of the reserved gap.
    const words = this.beginWords;
    const from = headerStart - this.beginPadding;
    for (let i = 0; i < words.length; i++) view.setInt32(from + 4 * i, words[i]!, true);
    // BodyLength's digits end right before the body's reserved gap ends, at its SOH.
    const lengthSum = writeDigitsBefore(buf, HEADER_RESERVE - 1, bodyLength, 1);
    buf[HEADER_RESERVE - 1] = SOH;
    const sum = (this.sum + this.beginSum + 0x39 + EQ + lengthSum + SOH) & 0xff;
    const hundreds = (sum / 100) | 0;
    const rest = sum - hundreds * 100;
    // "10=" and the first digit, then the last two digits and SOH (the word's last byte is past the end).
    const q = this.pos;
    view.setInt32(q, CHECKSUM_TAG | ((0x30 + hundreds) << 24), true);
    view.setInt32(q + 4, PAIR_WORDS[rest]! | (SOH << 16), true);
    this.pos = q + 7;
    return new EncodedMessage(this.arrayBuffer, this.byteOffset + headerStart, this.pos - headerStart);
  }

  /** Writes "tag=" (room for 12 bytes ensured by the caller). */
  private tag(tag: number): void {
    if (tag >= 0 && tag < WORD_TAGS) {
      // Four bytes stored whatever the tag's length: those past "=" are overwritten by the value.
      const p = this.pos;
      this.view.setInt32(p, TAG_WORDS[tag]!, true);
      const info = TAG_INFO[tag]!;
      this.pos = p + (info & 0xff);
      this.sum += info >> 8;
    } else this.longTag(tag);
  }

  /** tag() for tags of four digits and more, and for any other number (a caller's bug). */
  private longTag(tag: number): void {
    const buf = this.buf;
    const p = this.pos;
    if (tag >= 0 && tag < TABLE_TAGS) {
      const from = tag * TAG_STRIDE;
      const n = TAG_LENGTHS[tag]!;
      for (let i = 0; i < n; i++) buf[p + i] = TAG_BYTES[from + i]!;
      this.pos = p + n;
      this.sum += TAG_SUMS[tag]!;
      return;
    }
    // As many digits as it has, with room made for them.
    this.ensure(24);
    this.pos = this.writeInt(this.pos, safe(tag));
    this.buf[this.pos++] = EQ;
    this.sum += EQ;
  }

  /** Writes a safe integer's digits at `p` (adding them to the sum); returns the position after them. */
  private writeInt(p: number, value: number): number {
    const buf = this.buf;
    if (value < 0) {
      buf[p++] = 0x2d;
      this.sum += 0x2d;
      value = -value;
    }
    const end = p + digitCount(value);
    this.sum += writeDigitsBefore(buf, end, value, 1);
    return end;
  }

  private ensure(extra: number): void {
    if (this.pos + extra > this.capacity) this.grow(extra);
  }

  private grow(extra: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra + 64));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    this.capacity = bigger.length;
    this.view = viewOf(bigger);
    this.arrayBuffer = bigger.buffer;
    this.byteOffset = bigger.byteOffset;
  }
}

/**
 * What finish() returns: a Buffer (Buffer.prototype is on its prototype chain, so every
 * Buffer method and Buffer.isBuffer() hold) made by a plain typed-array constructor, as
 * Node makes its own Buffers. Buffer#subarray() made it for twice the cost: it reads the
 * view's `buffer`, which optimised code gets through a call into the runtime.
 */
const EncodedMessage = class EncodedMessage extends Uint8Array {} as unknown as new (
  memory: ArrayBufferLike,
  byteOffset: number,
  length: number,
) => Buffer;
Object.setPrototypeOf(EncodedMessage.prototype, Buffer.prototype);

/** A DataView over exactly the bytes of `buf`. */
function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** "10=" as the low three bytes of a little-endian word. */
const CHECKSUM_TAG = 0x31 | (0x30 << 8) | (EQ << 16);

const POW10 = Array.from({ length: 19 }, (_, i) => 10 ** i);
/**
 * Writes the digits of a non-negative safe integer so that they end right before `end`,
 * at least `width` of them (zero-padded); returns their byte sum.
 */
function writeDigitsBefore(buf: Uint8Array, end: number, value: number, width: number): number {
  if (value >= 2_147_483_648) return writeWideDigitsBefore(buf, end, value, width);
  let q = end;
  let sum = 0;
  let v = value | 0;
  while (v >= 100) {
    const next = (v / 100) | 0;
    const r = v - next * 100;
    buf[--q] = PAIRS[2 * r + 1]!;
    buf[--q] = PAIRS[2 * r]!;
    sum += PAIR_SUMS[r]!;
    v = next;
  }
  if (v >= 10) {
    buf[--q] = PAIRS[2 * v + 1]!;
    buf[--q] = PAIRS[2 * v]!;
    sum += PAIR_SUMS[v]!;
  } else {
    buf[--q] = 0x30 + v;
    sum += 0x30 + v;
  }
  while (end - q < width) {
    buf[--q] = 0x30;
    sum += 0x30;
  }
  return sum;
}

/** writeDigitsBefore() above int32: one digit at a time in doubles until the rest fits. */
function writeWideDigitsBefore(buf: Uint8Array, end: number, value: number, width: number): number {
  let q = end;
  let sum = 0;
  while (value >= 2_147_483_648) {
    const next = Math.floor(value / 10);
    const d = value - next * 10;
    buf[--q] = 0x30 + d;
    sum += 0x30 + d;
    value = next;
  }
  return sum + writeDigitsBefore(buf, q, value, width - (end - q));
}

/** Decimal digits of a non-negative safe integer (1 for 0). */
function digitCount(value: number): number {
  // Below 2^31 (prices, quantities, lengths): compares only, no loop.
  if (value < 100_000) return value < 100 ? (value < 10 ? 1 : 2) : value < 1_000 ? 3 : value < 10_000 ? 4 : 5;
  if (value < 2_147_483_648)
    return value < 10_000_000 ? (value < 1_000_000 ? 6 : 7) : value < 100_000_000 ? 8 : value < 1_000_000_000 ? 9 : 10;
  let n = 1;
  for (let limit = 10; value >= limit && n < 16; limit *= 10) n++;
  return n;
}

function sumOf(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += bytes[i]!;
  return sum;
}
