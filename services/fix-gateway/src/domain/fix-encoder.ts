// Writes FIX tag=value messages into one reused buffer. The body is written first after a
// reserved gap; finish() then puts BeginString and BodyLength right before it and appends
// the CheckSum, so nothing is copied and nothing is measured twice.

import { UtcTimestampWriter } from "./fix-time.ts";

const SOH = 0x01;
const EQ = 0x3d;
/** Room for "8=<BeginString><SOH>9=<up to 7 digits><SOH>". */
const HEADER_RESERVE = 32;
const DEFAULT_CAPACITY = 4096;

/** A finite safe integer: what a caller's bug (NaN, Infinity, 1e300) still writes as a number. */
function safe(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.trunc(Math.min(Math.max(value, -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER));
}

export class FixEncoder {
  private buf: Buffer;
  private pos = HEADER_RESERVE;
  private readonly begin: Uint8Array;
  private readonly digits = new Uint8Array(48);
  private readonly timestamps = new UtcTimestampWriter();

  constructor(beginString = "FIX.4.4", capacity = DEFAULT_CAPACITY) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 256));
    this.begin = Buffer.from(`8=${beginString}\x01`, "latin1");
    if (this.begin.length + 10 > HEADER_RESERVE) throw new RangeError(`BeginString too long: ${beginString}`);
  }

  /** Starts a message of `msgType`: the header fields after it are the caller's. */
  start(msgType: string): this {
    this.pos = HEADER_RESERVE;
    return this.string(35, msgType);
  }

  /**
   * A string field. Bytes that would break the framing (SOH, control characters,
   * non-ASCII) are written as "?": text from elsewhere never corrupts a message.
   */
  string(tag: number, value: string): this {
    this.tag(tag);
    const n = value.length;
    this.ensure(n + 1);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      buf[p++] = c >= 0x20 && c < 0x7f ? c : 0x3f;
    }
    buf[p++] = SOH;
    this.pos = p;
    return this;
  }

  /** Raw bytes as they are (a data field whose length field the caller wrote). */
  bytes(tag: number, value: Uint8Array): this {
    this.tag(tag);
    this.ensure(value.length + 1);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    this.buf[this.pos++] = SOH;
    return this;
  }

  /** Whole fields already encoded ("tag=value<SOH>..."), e.g. a stored message's body. */
  raw(fields: Uint8Array): this {
    this.ensure(fields.length);
    this.buf.set(fields, this.pos);
    this.pos += fields.length;
    return this;
  }

  /** One character (Side, OrdType, ...), as its code. */
  char(tag: number, code: number): this {
    this.tag(tag);
    this.ensure(2);
    this.buf[this.pos++] = code;
    this.buf[this.pos++] = SOH;
    return this;
  }

  bool(tag: number, value: boolean): this {
    return this.char(tag, value ? 0x59 : 0x4e);
  }

  /** An integer (safe integers; fractions are truncated). */
  int(tag: number, value: number): this {
    this.tag(tag);
    this.ensure(24);
    this.pos = this.writeInt(this.pos, safe(value));
    this.buf[this.pos++] = SOH;
    return this;
  }

  /** mantissa x 10^exponent as a plain decimal ("100.25", "0.005", "1200"). */
  decimal(tag: number, mantissa: number, exponent: number): this {
    this.tag(tag);
    this.ensure(48);
    const buf = this.buf;
    let p = this.pos;
    let m = safe(mantissa);
    if (m < 0) {
      buf[p++] = 0x2d;
      m = -m;
    }
    if (exponent >= 0) {
      p = this.writeInt(p, m);
      if (m !== 0) for (let i = 0; i < exponent && i < 20; i++) buf[p++] = 0x30;
    } else {
      const scale = Math.min(-exponent, 18);
      let n = 0;
      let v = m;
      const d = this.digits;
      do {
        d[n++] = 0x30 + (v % 10);
        v = Math.floor(v / 10);
      } while (v > 0);
      while (n <= scale) d[n++] = 0x30; // at least one digit before the point
      for (let i = n - 1; i >= scale; i--) buf[p++] = d[i]!;
      buf[p++] = 0x2e;
      for (let i = scale - 1; i >= 0; i--) buf[p++] = d[i]!;
    }
    buf[p++] = SOH;
    this.pos = p;
    return this;
  }

  /** A UTCTimestamp with milliseconds. */
  timestamp(tag: number, epochMs: number): this {
    this.tag(tag);
    this.ensure(24);
    this.pos = this.timestamps.write(this.buf, this.pos, epochMs);
    this.buf[this.pos++] = SOH;
    return this;
  }

  /**
   * Completes the message and returns it: a view into the encoder's buffer, valid until
   * the next start(); copy it to keep it.
   */
  finish(): Buffer {
    const buf = this.buf;
    const bodyLength = this.pos - HEADER_RESERVE;
    let lengthDigits = 1;
    for (let v = bodyLength; v >= 10; v = Math.floor(v / 10)) lengthDigits++;
    const headerStart = HEADER_RESERVE - this.begin.length - 3 - lengthDigits;
    buf.set(this.begin, headerStart);
    let p = headerStart + this.begin.length;
    buf[p++] = 0x39;
    buf[p++] = EQ;
    p = this.writeInt(p, bodyLength);
    buf[p] = SOH;
    this.ensure(7);
    let sum = 0;
    for (let i = headerStart; i < this.pos; i++) sum += buf[i]!;
    sum &= 0xff;
    const q = this.pos;
    buf[q] = 0x31;
    buf[q + 1] = 0x30;
    buf[q + 2] = EQ;
    buf[q + 3] = 0x30 + Math.floor(sum / 100);
    buf[q + 4] = 0x30 + (Math.floor(sum / 10) % 10);
    buf[q + 5] = 0x30 + (sum % 10);
    buf[q + 6] = SOH;
    this.pos = q + 7;
    return buf.subarray(headerStart, this.pos);
  }

  private tag(tag: number): void {
    this.ensure(12);
    this.pos = this.writeInt(this.pos, tag);
    this.buf[this.pos++] = EQ;
  }

  private writeInt(p: number, value: number): number {
    const buf = this.buf;
    if (value < 0) {
      buf[p++] = 0x2d;
      value = -value;
    }
    if (value < 10) {
      buf[p] = 0x30 + value;
      return p + 1;
    }
    const d = this.digits;
    let n = 0;
    while (value > 0) {
      d[n++] = 0x30 + (value % 10);
      value = Math.floor(value / 10);
    }
    while (n > 0) buf[p++] = d[--n]!;
    return p;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra + 64));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}
