import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encodeFields, FixEncoder } from "../../src/domain/fix-encoder.ts";
import { FixParser, ParseStatus } from "../../src/domain/fix-parser.ts";
import { DATA_FIELDS } from "../../src/domain/fix-tags.ts";
import { frame, text } from "../support/fix-text.ts";

describe("FixEncoder", () => {
  it("frames a message exactly as a hand-built one, BodyLength and CheckSum included", () => {
    const e = new FixEncoder();
    const out = e
      .start("8")
      .string(49, "VENUE")
      .string(56, "CLIENT")
      .int(34, 7)
      .timestamp(52, Date.UTC(2026, 2, 1, 12, 0, 0, 5))
      .decimal(44, 150025, -2)
      .decimal(6, 0, -2)
      .decimal(31, 12, 0)
      .decimal(32, 5, -3)
      .int(14, -3)
      .char(54, 0x32)
      .bool(43, true)
      .finish();
    expect(text(out)).toBe(
      text(
        frame("35=8|49=VENUE|56=CLIENT|34=7|52=20260301-12:00:00.005|44=1500.25|6=0.00|31=12|32=0.005|14=-3|54=2|43=Y"),
      ),
    );
  });

  it("writes control and non-ASCII characters of a string as ?", () => {
    const out = new FixEncoder().start("3").string(58, "bad\x01value é").finish();
    expect(text(out)).toBe(text(frame("35=3|58=bad?value ?")));
  });

  // finish() makes its view with a constructor of its own (cheaper than Buffer#subarray):
  // it must still be a Buffer in every way a caller may use one.
  it("returns a Buffer that Buffer's methods and checks take as one", () => {
    const out = new FixEncoder().start("0").int(34, 9).finish();
    const expected = frame("35=0|34=9");
    expect(Buffer.isBuffer(out)).toBe(true);
    expect(out).toBeInstanceOf(Buffer);
    expect(out.toString("latin1")).toBe(expected.toString("latin1"));
    expect(out.equals(expected)).toBe(true);
    expect(Buffer.compare(out, expected)).toBe(0);
    expect(out.subarray(0, 2).toString("latin1")).toBe("8=");
    expect(out.readUInt8(0)).toBe(0x38);
    expect(Buffer.concat([out, out]).length).toBe(2 * expected.length);
  });

  it("grows past its first buffer", () => {
    const e = new FixEncoder("FIX.4.4", 256);
    const out = e.start("0").string(58, "x".repeat(10_000)).finish();
    const parser = new FixParser();
    expect(parser.parse(out, 0, out.length)).toBe(ParseStatus.Message);
    expect(parser.message.length(58)).toBe(10_000);
  });

  it("frames a body that ends right at the end of its buffer (the CheckSum makes it grow)", () => {
    const parser = new FixParser();
    for (let n = 150; n <= 260; n++) {
      const e = new FixEncoder("FIX.4.4", 256);
      const out = Buffer.from(e.start("D").string(58, "x".repeat(n)).finish());
      expect({ n, status: parser.parse(out, 0, out.length) }).toEqual({ n, status: ParseStatus.Message });
      expect(parser.message.length(58)).toBe(n);
    }
  });

  // finish() stores "8=<BeginString><SOH>9=" as whole words padded at the front: each
  // remainder of its length by 4, with BodyLengths of one to four digits, must leave the
  // digits and the body's first bytes as they were.
  it.each(["FIX.4.4", "FIXT.1.1", "FIX.5.0SP", "FIX.5.0SP2", "FIX.4.4.4.4.4.44"])(
    "frames a message with BeginString %s whatever its BodyLength",
    (begin) => {
      const e = new FixEncoder(begin);
      for (const n of [0, 1, 5, 50, 500, 5000]) {
        const body = n === 0 ? "35=0" : `35=0|58=${"x".repeat(n)}`;
        e.start("0");
        if (n > 0) e.string(58, "x".repeat(n));
        expect(text(e.finish())).toBe(text(frame(body, { begin })));
      }
    },
  );

  it("refuses a BeginString longer than the parser takes (16 bytes)", () => {
    expect(() => new FixEncoder("FIX.4.4.4.4.4.444")).toThrow(RangeError);
  });

  // int() writes an int32 directly and clamps anything else: both sides of the line.
  it.each([
    [0, "0"],
    [-0, "0"],
    [7, "7"],
    [-7, "-7"],
    [2 ** 31 - 1, "2147483647"],
    [-(2 ** 31), "-2147483648"],
    [2 ** 31, "2147483648"],
    [-(2 ** 31) - 1, "-2147483649"],
    [1.9, "1"],
    [-1.9, "-1"],
    [2 ** 53, "9007199254740991"],
  ])("writes the integer %d as %s", (value, expected) => {
    const out = new FixEncoder().start("D").int(38, value).finish();
    expect(text(out)).toBe(text(frame(`35=D|38=${expected}`)));
  });

  it("writes nonsense numbers as numbers, never as an empty or endless field", () => {
    const out = new FixEncoder().start("0").int(1, NaN).int(2, Infinity).decimal(3, 1e300, -40).finish();
    expect(text(out)).toBe(
      text(frame(`35=0|1=0|2=0|3=${"9007199254740991".padStart(19, "0").replace(/^(.)/, "$1.")}`)),
    );
  });
});

const tagArb = fc
  .integer({ min: 1, max: 99_999 })
  .filter((t) => t !== 8 && t !== 9 && t !== 10 && t !== 35 && !DATA_FIELDS.has(t));
const valueArb = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 40,
});

describe("codec round trip", () => {
  it("parses back every field of every message it encodes, in order", () => {
    const encoder = new FixEncoder();
    const parser = new FixParser();
    fc.assert(
      fc.property(
        fc.constantFrom("0", "A", "D", "8", "AE"),
        fc.array(fc.tuple(tagArb, valueArb), { maxLength: 60 }),
        (msgType, fields) => {
          encoder.start(msgType);
          for (const [tag, value] of fields) encoder.string(tag, value);
          const bytes = Buffer.from(encoder.finish());
          expect(parser.parse(bytes, 0, bytes.length)).toBe(ParseStatus.Message);
          expect(parser.problem).toBe(-1);
          expect(parser.next).toBe(bytes.length);
          const m = parser.message;
          expect(m.msgType).toBe(msgType);
          const got: [number, string][] = [];
          for (let i = 3; i < m.count - 1; i++) got.push([m.tags[i]!, m.stringAt(i)]);
          expect(got).toEqual(fields);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("reads back every integer and decimal it writes", () => {
    const encoder = new FixEncoder();
    const parser = new FixParser();
    fc.assert(
      fc.property(
        fc.integer({ min: -(10 ** 15) + 1, max: 10 ** 15 - 1 }),
        fc.integer({ min: -8, max: 0 }),
        fc.integer({ min: -(10 ** 15) + 1, max: 10 ** 15 - 1 }),
        (mantissa, exponent, n) => {
          const bytes = Buffer.from(encoder.start("D").decimal(44, mantissa, exponent).int(38, n).finish());
          parser.parse(bytes, 0, bytes.length);
          const m = parser.message;
          expect(m.int(38)).toBe(n);
          expect(m.decimal(44)).toBe(true);
          // Equal as numbers: the parser drops the fraction's trailing zeros.
          let [gm, ge] = [m.mantissa, m.exponent];
          while (ge > exponent) {
            gm *= 10;
            ge--;
          }
          expect(gm).toBe(mantissa === 0 ? 0 : mantissa);
        },
      ),
    );
  });
});

describe("FixEncoder.decimal's text", () => {
  /** The decimal as text by string arithmetic: the reference for the encoder's digit tricks. */
  const reference = (mantissa: number, exponent: number): string => {
    const digits = String(Math.abs(mantissa));
    const sign = mantissa < 0 ? "-" : "";
    if (exponent >= 0) return sign + digits + (mantissa === 0 ? "" : "0".repeat(exponent));
    const padded = digits.padStart(1 - exponent, "0");
    return `${sign}${padded.slice(0, exponent)}.${padded.slice(exponent)}`;
  };

  it("writes every int32 mantissa with 0 to 9 decimals as plain text, padded and signed", () => {
    const encoder = new FixEncoder();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          fc.constantFrom(0, 1, -1, 9, 10, 99, 100, 2 ** 31 - 1, -(2 ** 31), 1_000_000_000),
        ),
        fc.integer({ min: -9, max: 0 }),
        (mantissa, exponent) => {
          const out = encoder.start("D").decimal(44, mantissa, exponent).finish().toString("latin1");
          expect(out).toContain(`\x0144=${reference(mantissa, exponent)}\x01`);
        },
      ),
    );
  });
});

describe("FixEncoder.fields", () => {
  it("writes fields encoded once exactly as string() writes them, CheckSum included", () => {
    const header = encodeFields([
      [49, "VENUE"],
      [56, "CLIENT"],
    ]);
    const once = Buffer.from(new FixEncoder().start("0").fields(header).int(34, 9).finish());
    const each = Buffer.from(new FixEncoder().start("0").string(49, "VENUE").string(56, "CLIENT").int(34, 9).finish());
    expect(text(once)).toBe(text(each));
  });
});
