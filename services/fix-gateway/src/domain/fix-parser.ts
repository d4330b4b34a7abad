// Frames and tokenises FIX tag=value messages from a byte stream. The frame is checked
// first (BeginString, BodyLength, CheckSum); a message that fails it is garbled and
// dropped as FIX prescribes (no Reject, the sequence number is not consumed), and the
// parser resynchronises on the next "8=F". A message whose frame is right but whose
// fields are not (a bad tag, an empty value, a misplaced header field) comes back as a
// message with a `problem` for the session to answer with a Reject. Nothing here throws
// on any input, and nothing allocates per field.

import { DATA_FIELDS, SessionRejectReason } from "./fix-tags.ts";
import { FixMessage, SOH } from "./fix-message.ts";

export const ParseStatus = {
  /** Not enough bytes yet for one whole message. */
  Incomplete: 0,
  /** `message` holds a message that ends at `next`. */
  Message: 1,
  /** Bytes up to `next` are not a message (`reason` says why): drop them. */
  Garbled: 2,
} as const;
export type ParseStatus = (typeof ParseStatus)[keyof typeof ParseStatus];

/** Largest message accepted, in bytes (a bound on hostile input). */
export const DEFAULT_MAX_MESSAGE_BYTES = 65_536;
const MAX_BEGIN_STRING = 16;
const MAX_LENGTH_DIGITS = 7;
const CHECKSUM_FIELD = 7; // "10=nnn<SOH>"

const EQ = 0x3d;
const ZERO = 0x30;

/**
 * Tags that need a second look when they appear in the body: a data field's length (the
 * data field after it may hold SOH) and the frame's own tags (8, 9, 10: out of order there).
 * One table read per field tells the usual field (0) from these.
 */
const SPECIAL_TAGS = 1024;
const SPECIAL = new Uint8Array(SPECIAL_TAGS);
const DATA_LENGTH = 1;
const FRAME_TAG = 2;
/** DATA_FIELDS as an array by length tag: a Map lookup per field was the parser's hottest line. */
const DATA_TAG_OF = new Int32Array(SPECIAL_TAGS);
for (const [lengthTag, dataTag] of DATA_FIELDS) {
  if (lengthTag >= SPECIAL_TAGS) throw new RangeError(`data length tag ${lengthTag} needs a bigger table`);
  DATA_TAG_OF[lengthTag] = dataTag;
  SPECIAL[lengthTag] = DATA_LENGTH;
}
for (const tag of [8, 9, 10]) SPECIAL[tag] = FRAME_TAG;

export class FixParser {
  readonly message = new FixMessage();
  /** After Message or Garbled: where the next message starts. */
  next = 0;
  /** After Garbled: why, for logs. */
  reason = "";
  /** After Message: a SessionRejectReason for a field problem, or -1 when the fields are fine. */
  problem = -1;
  /** After Message with a problem: the tag concerned (0 when unknown). */
  problemTag = 0;
  private readonly maxMessageBytes: number;

  constructor(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {
    this.maxMessageBytes = maxMessageBytes;
  }

  /** Looks for one message at buf[start, end). */
  parse(buf: Uint8Array, start: number, end: number): ParseStatus {
    if (end - start < 2) {
      if (end === start || buf[start] === 0x38) return ParseStatus.Incomplete;
      return this.garbled(buf, start, end, "does not start with 8=");
    }
    if (buf[start] !== 0x38 || buf[start + 1] !== EQ) return this.garbled(buf, start, end, "does not start with 8=");
    // BeginString
    let p = start + 2;
    const beginLimit = Math.min(end, p + MAX_BEGIN_STRING + 1);
    // The header's bytes are summed as they are read, for the CheckSum ("8=" and "9=" are 0x38 + EQ + 0x39 + EQ, the two SOHs 2).
    let headerSum = 0x38 + EQ + 0x39 + EQ + 2 * SOH;
    let c = 0;
    while (p < beginLimit && (c = buf[p]!) !== SOH) {
      headerSum += c;
      p++;
    }
    if (p === end) return ParseStatus.Incomplete;
    if (buf[p] !== SOH || p === start + 2) return this.garbled(buf, start, end, "bad BeginString");
    const beginEnd = p;
    p++;
    // BodyLength
    if (end - p < 2) return ParseStatus.Incomplete;
    if (buf[p] !== 0x39 || buf[p + 1] !== EQ)
      return this.garbled(buf, start, end, "BodyLength is not the second field");
    p += 2;
    const lengthStart = p;
    let bodyLength = 0;
    while (p < end && (c = buf[p]!) !== SOH) {
      const d = c - ZERO;
      if (d < 0 || d > 9 || p - lengthStart >= MAX_LENGTH_DIGITS)
        return this.garbled(buf, start, end, "bad BodyLength");
      bodyLength = bodyLength * 10 + d;
      headerSum += c;
      p++;
    }
    if (p === end) return ParseStatus.Incomplete;
    if (p === lengthStart) return this.garbled(buf, start, end, "empty BodyLength");
    if (bodyLength > this.maxMessageBytes) return this.garbled(buf, start, end, "message too large");
    const lengthEnd = p;
    const bodyStart = p + 1;
    const bodyEnd = bodyStart + bodyLength;
    const total = bodyEnd + CHECKSUM_FIELD;
    if (total > end) return ParseStatus.Incomplete;
    if (
      bodyLength === 0 ||
      buf[bodyEnd - 1] !== SOH ||
      buf[bodyEnd] !== 0x31 ||
      buf[bodyEnd + 1] !== ZERO ||
      buf[bodyEnd + 2] !== EQ ||
      buf[total - 1] !== SOH
    )
      return this.garbled(buf, start, end, "BodyLength does not match the message");
    const c0 = buf[bodyEnd + 3]! - ZERO;
    const c1 = buf[bodyEnd + 4]! - ZERO;
    const c2 = buf[bodyEnd + 5]! - ZERO;
    if (c0 < 0 || c0 > 9 || c1 < 0 || c1 > 9 || c2 < 0 || c2 > 9)
      return this.garbled(buf, start, end, "malformed CheckSum");

    // One pass: the body is tokenised and summed together; a CheckSum mismatch found at
    // the end still drops the whole message before anyone reads it.
    const m = this.message;
    m.reset(buf, start);
    m.add(8, start + 2, beginEnd);
    m.add(9, lengthStart, lengthEnd);
    this.problem = -1;
    this.problemTag = 0;
    const sum = this.tokenise(buf, bodyStart, bodyEnd) + headerSum;
    if ((sum & 0xff) !== c0 * 100 + c1 * 10 + c2) {
      m.reset(buf, start);
      return this.garbled(buf, start, end, "CheckSum mismatch");
    }
    m.add(10, bodyEnd + 3, bodyEnd + 6);
    m.end = total;
    this.next = total;
    return ParseStatus.Message;
  }

  /** Splits buf[p, end) (which ends with SOH) into fields; returns the sum of its bytes. */
  private tokenise(buf: Uint8Array, p: number, end: number): number {
    const m = this.message;
    let sum = 0;
    let dataTag = 0;
    let dataLength = 0;
    let first = true;
    while (p < end) {
      const fieldStart = p;
      // The tag: digits, the first not 0, at most 9 of them, then "=". One range check per
      // byte; anything else is an invalid tag, scanned again on the slow path below.
      let c = buf[p]!;
      let tag = c - ZERO;
      let tagSum = c;
      let ok = tag >= 1 && tag <= 9;
      // Tags of two and three digits (nearly all of them) without the loop.
      const c1 = buf[p + 1]!;
      const d1 = c1 - ZERO;
      const c2 = buf[p + 2]!;
      if (ok && d1 >>> 0 <= 9 && c2 === EQ) {
        tag = tag * 10 + d1;
        tagSum += c1;
        p += 2;
        c = EQ;
      } else if (ok && d1 >>> 0 <= 9 && (c2 - ZERO) >>> 0 <= 9 && buf[p + 3] === EQ) {
        tag = tag * 100 + d1 * 10 + (c2 - ZERO);
        tagSum += c1 + c2;
        p += 3;
        c = EQ;
      } else if (ok) {
        for (;;) {
          // No `p < end` in the byte loops: the body's last byte is an SOH (checked above), which stops each of them.
          c = buf[++p]!;
          const d = c - ZERO;
          if (d >>> 0 > 9) break;
          tag = tag * 10 + d;
          tagSum += c;
        }
        ok = c === EQ && p - fieldStart <= 9;
      }
      if (!ok) {
        // Digits ended by the SOH (no "=") still name the tag for the Reject; others do not.
        const named = tag >= 1 && c === SOH && p - fieldStart <= 9 && buf[fieldStart] !== ZERO;
        this.flag(SessionRejectReason.InvalidTagNumber, named ? tag : 0);
        p = fieldStart;
        while ((c = buf[p]!) !== SOH) {
          sum += c;
          p++;
        }
        sum += SOH;
        p++;
        first = false;
        continue;
      }
      sum += tagSum;
      sum += EQ;
      const valueStart = ++p;
      if (tag === dataTag && dataLength >= 0 && valueStart + dataLength < end && buf[valueStart + dataLength] === SOH) {
        p = valueStart + dataLength;
        for (let i = valueStart; i < p; i++) sum += buf[i]!;
      } else {
        // Two bytes a step: a byte that is not the SOH has another after it (the body ends with one).
        for (;;) {
          c = buf[p]!;
          if (c === SOH) break;
          const c2 = buf[p + 1]!;
          if (c2 === SOH) {
            sum += c;
            p++;
            break;
          }
          sum += c + c2;
          p += 2;
        }
      }
      sum += SOH;
      dataTag = 0;
      const special = tag < SPECIAL_TAGS ? SPECIAL[tag]! : 0;
      // The usual field passes three compares; the rest is looked at aside.
      if (first || special !== 0 || p === valueStart) this.checkField(tag, first, special, p === valueStart);
      first = false;
      if (!m.add(tag, valueStart, p)) {
        this.flag(SessionRejectReason.Other, 0);
        // The fields stop here; the CheckSum still covers every byte.
        for (let i = p + 1; i < end; i++) sum += buf[i]!;
        return sum;
      }
      if (special === DATA_LENGTH) {
        dataTag = DATA_TAG_OF[tag]!;
        dataLength = m.intAt(m.count - 1);
        if (!(dataLength >= 0)) dataLength = -1;
      }
      p++;
    }
    return sum;
  }

  /** A field's problems other than its tag: an empty value, or a place it may not be in. */
  private checkField(tag: number, first: boolean, special: number, empty: boolean): void {
    if (empty) this.flag(SessionRejectReason.TagSpecifiedWithoutValue, tag);
    // MsgType must come first in the body, and BeginString, BodyLength and CheckSum not in it.
    if (first ? tag !== 35 : special === FRAME_TAG) this.flag(SessionRejectReason.TagSpecifiedOutOfRequiredOrder, tag);
  }

  private flag(reason: number, tag: number): void {
    if (this.problem < 0) {
      this.problem = reason;
      this.problemTag = tag;
    }
  }

  /**
   * Drops bytes up to the next "8=F" after `start` (a BeginString is FIX.x.y or FIXT.1.1);
   * a prefix of it at the very end is kept, as the start of a message still arriving.
   */
  private garbled(buf: Uint8Array, start: number, end: number, reason: string): ParseStatus {
    this.reason = reason;
    for (let i = start + 1; i < end; i++) {
      if (buf[i] === 0x38 && (i + 1 === end || (buf[i + 1] === EQ && (i + 2 === end || buf[i + 2] === 0x46)))) {
        this.next = i;
        return ParseStatus.Garbled;
      }
    }
    this.next = end;
    return ParseStatus.Garbled;
  }
}
