/** Little-endian byte writer and reader for snapshots and the state digest. */

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Thrown by restoreEngine for bytes that are not an intact snapshot of this format. */
export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Longest string written by the ASCII fast path of ByteWriter.string. */
const SHORT_STRING = 64;

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 1 << 16) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  string(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: encode in place, then write the length.
    this.ensure(4 + s.length * 3);
    const at = this.length;
    // Short ASCII strings (client order ids, one per live order in a partition snapshot) are
    // copied a character at a time: several times faster than a call into the encoder.
    if (s.length <= SHORT_STRING) {
      const buf = this.buf;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[at + 4 + i] = c;
      }
      if (i === s.length) {
        this.view.setUint32(at, i, true);
        this.length = at + 4 + i;
        return;
      }
    }
    const { written } = utf8.encodeInto(s, this.buf.subarray(at + 4));
    this.view.setUint32(at, written, true);
    this.length = at + 4 + written;
  }

  /**
   * Takes the next `n` bytes and returns where they start, for a record of fixed size written
   * through `dataView` with one capacity check instead of one per field.
   */
  claim(n: number): number {
    this.ensure(n);
    const at = this.length;
    this.length += n;
    return at;
  }

  /** The buffer as a DataView: valid until the next write that grows it. */
  get dataView(): DataView {
    return this.view;
  }

  /** The bytes written so far (a view; copy before writing more). */
  view8(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private readonly bytes8: Uint8Array;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes8 = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes8.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes8.length) throw new SnapshotError("snapshot is truncated");
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes8.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    const n = this.u32();
    return utf8Strict.decode(this.bytes(n));
  }
}
