import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { FixMessage } from "../../src/domain/fix-message.ts";
import { FixParser, ParseStatus } from "../../src/domain/fix-parser.ts";
import { SessionRejectReason } from "../../src/domain/fix-tags.ts";
import { frame, text } from "../support/fix-text.ts";

const NOS =
  "35=D|49=CLIENT|56=VENUE|34=2|52=20260301-12:00:00.000|11=ord-1|1=acc1|55=INFY|54=1|60=20260301-12:00:00.000|38=100|40=2|44=1500.25|59=0";

function parseOne(bytes: Uint8Array) {
  const parser = new FixParser();
  const status = parser.parse(bytes, 0, bytes.length);
  return { parser, status, m: parser.message };
}

describe("FixParser framing", () => {
  it("parses a NewOrderSingle and reads its fields without strings", () => {
    const { status, m, parser } = parseOne(frame(NOS));
    expect(status).toBe(ParseStatus.Message);
    expect(parser.problem).toBe(-1);
    expect(m.msgType).toBe("D");
    expect(m.int(34)).toBe(2);
    expect(m.char(54)).toBe(0x31);
    expect(m.decimal(44)).toBe(true);
    expect([m.mantissa, m.exponent]).toEqual([150025, -2]);
    expect(m.string(11)).toBe("ord-1");
    expect(m.timestamp(52)).toBe(Date.UTC(2026, 2, 1, 12));
    expect(m.equals(49, Buffer.from("CLIENT"))).toBe(true);
    expect(m.equals(49, Buffer.from("CLIENTX"))).toBe(false);
    expect(m.duplicateTag).toBe(0);
  });

  it("finds each message of a stream in turn, one byte at a time", () => {
    const a = frame("35=0|49=A|56=B|34=1|52=20260301-12:00:00");
    const b = frame(NOS);
    const stream = Buffer.concat([a, b]);
    const parser = new FixParser();
    const seen: string[] = [];
    let start = 0;
    for (let end = 1; end <= stream.length; end++) {
      const s = parser.parse(stream, start, end);
      if (s === ParseStatus.Message) {
        seen.push(parser.message.msgType);
        start = parser.next;
      } else expect(s).toBe(ParseStatus.Incomplete);
    }
    expect(seen).toEqual(["0", "D"]);
  });

  const good = frame(NOS);
  it.each([
    ["a wrong CheckSum", frame(NOS, { checksum: 1 }), "CheckSum mismatch"],
    [
      "a BodyLength one too short",
      frame(NOS, { bodyLength: good.length - 25 - 7 }),
      "BodyLength does not match the message",
    ],
    ["a message not starting with 8=", Buffer.concat([Buffer.from("x"), good]), "does not start with 8="],
    ["a non-numeric BodyLength", Buffer.from("8=FIX.4.4\x019=1a\x0135=0\x0110=000\x01"), "bad BodyLength"],
    [
      "BodyLength not second",
      Buffer.from("8=FIX.4.4\x0135=0\x019=5\x0110=000\x01"),
      "BodyLength is not the second field",
    ],
  ])("drops %s as garbled and finds the next message after it", (_name, bad, reason) => {
    const stream = Buffer.concat([bad, good]);
    const parser = new FixParser();
    let start = 0;
    let status: number;
    const reasons: string[] = [];
    while ((status = parser.parse(stream, start, stream.length)) === ParseStatus.Garbled) {
      reasons.push(parser.reason);
      start = parser.next;
    }
    expect(reasons[0]).toBe(reason);
    expect(status).toBe(ParseStatus.Message);
    expect(text(parser.message.copy())).toBe(text(good));
  });

  it.each([
    [
      "an empty value",
      "35=D|49=C|56=V|34=2|58=|52=20260301-12:00:00",
      SessionRejectReason.TagSpecifiedWithoutValue,
      58,
    ],
    ["a tag with a letter", "35=D|49=C|56=V|34=2|5x=1|52=20260301-12:00:00", SessionRejectReason.InvalidTagNumber, 0],
    ["a field without =", "35=D|49=C|56=V|34=2|abc|52=20260301-12:00:00", SessionRejectReason.InvalidTagNumber, 0],
    [
      "a tag with a leading zero",
      "35=D|49=C|56=V|34=2|058=x|52=20260301-12:00:00",
      SessionRejectReason.InvalidTagNumber,
      0,
    ],
    [
      "MsgType not first",
      "49=C|35=D|56=V|34=2|52=20260301-12:00:00",
      SessionRejectReason.TagSpecifiedOutOfRequiredOrder,
      49,
    ],
    ["a CheckSum in the body", "35=D|49=C|10=000|56=V|34=2", SessionRejectReason.TagSpecifiedOutOfRequiredOrder, 10],
  ])("returns a message with a problem for %s", (_name, body, reason, tag) => {
    const { status, parser } = parseOne(frame(body));
    expect(status).toBe(ParseStatus.Message);
    expect([parser.problem, parser.problemTag]).toEqual([reason, tag]);
    expect(parser.message.int(34)).toBe(2);
  });

  it("reads a data field that holds SOH by its length field", () => {
    const { m, parser } = parseOne(frame("35=A|49=C|56=V|34=1|95=3|96=a\x01b|98=0|108=30"));
    expect(parser.problem).toBe(-1);
    expect(m.string(96)).toBe("a\x01b");
    expect(m.int(108)).toBe(30);
  });

  it("notes a repeated tag", () => {
    const { m } = parseOne(frame("35=D|49=C|56=V|34=2|55=A|55=B"));
    expect(m.duplicateTag).toBe(55);
    expect(m.string(55)).toBe("A");
  });

  it.each([
    ["100", 100, 0],
    ["100.50", 1005, -1],
    ["0.005", 5, -3],
    ["-2.5", -25, -1],
    [".5", 5, -1],
    ["7.", 7, 0],
    ["0", 0, 0],
  ])("reads the decimal %s as a mantissa and exponent", (value, mantissa, exponent) => {
    const { m } = parseOne(frame(`35=D|44=${value}`));
    expect(m.decimal(44)).toBe(true);
    expect([m.mantissa, m.exponent]).toEqual([mantissa, exponent]);
  });

  it.each(["", ".", "-", "1.2.3", "1e5", "12a", "1234567890123456"])("refuses the decimal %j", (value) => {
    const { m } = parseOne(frame(`35=D|44=${value === "" ? "x" : value}`));
    if (value === "") expect(m.decimal(45)).toBe(false);
    else expect(m.decimal(44)).toBe(false);
  });
});

describe("FixMessage's index of tags", () => {
  it("finds each message's own fields across the wrap of its stamps (every 2 million messages)", () => {
    const m = new FixMessage();
    const buf = Buffer.from("x");
    for (let n = 0; n < 2_100_000; n++) {
      m.reset(buf, 0);
      // Tag 55 only in even messages, tag 11 in every one at an index that moves.
      if ((n & 1) === 0) m.add(55, 0, 1);
      m.add(11, 0, 1);
      if (m.indexOf(11) !== ((n & 1) === 0 ? 1 : 0) || m.has(55) !== ((n & 1) === 0) || m.has(44))
        throw new Error(`message ${n}: wrong index`);
    }
  });
});

describe("FixMessage.interned", () => {
  it("returns the same string for the same bytes, a different one for different bytes, undefined when absent", () => {
    const parser = new FixParser();
    const read = (symbol: string) => {
      const bytes = frame(NOS.replace("55=INFY", `55=${symbol}`));
      parser.parse(bytes, 0, bytes.length);
      return parser.message.interned(55);
    };
    expect(read("INFY")).toBe("INFY");
    expect(read("INFZ")).toBe("INFZ");
    expect(read("INFY")).toBe("INFY");
    expect(read("X".repeat(40))).toBe("X".repeat(40));
    expect(parser.message.interned(9999)).toBeUndefined();
  });
});

describe("FixParser on hostile input", () => {
  it("never throws and always makes progress, whatever the bytes", () => {
    const parser = new FixParser(1024);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 200 }), (noise, tail) => {
        const stream = Buffer.concat([noise, frame(NOS), tail]);
        let start = 0;
        let found = false;
        for (let guard = 0; guard <= stream.length + 1; guard++) {
          const s = parser.parse(stream, start, stream.length);
          if (s === ParseStatus.Incomplete) break;
          expect(parser.next).toBeGreaterThan(start);
          if (s === ParseStatus.Message && parser.message.string(11) === "ord-1") found = true;
          start = parser.next;
        }
        // A valid message after noise is found unless the noise happens to frame a message that swallows it.
        if (!found) expect(noise.includes(0x38)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on mutations of a valid message", () => {
    const parser = new FixParser(1024);
    const base = frame(NOS);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (edits) => {
          const bytes = Buffer.from(base);
          for (const [at, value] of edits) bytes[at] = value;
          const s = parser.parse(bytes, 0, bytes.length);
          if (s === ParseStatus.Message) {
            const m = parser.message;
            for (const tag of [11, 34, 38, 44, 52, 54, 55]) {
              m.string(tag);
              m.int(tag);
              m.decimal(tag);
              m.timestamp(tag);
              m.char(tag);
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
