import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readUtcTimestamp, UtcTimestampWriter, writeUtcTimestamp } from "../../src/domain/fix-time.ts";

const ascii = (s: string) => Buffer.from(s, "latin1");
const read = (s: string) => readUtcTimestamp(ascii(s), 0, s.length);

describe("UTCTimestamp", () => {
  it.each([
    ["reads seconds", "20260301-12:34:56", Date.UTC(2026, 2, 1, 12, 34, 56)],
    ["reads milliseconds", "20260301-12:34:56.789", Date.UTC(2026, 2, 1, 12, 34, 56, 789)],
    ["drops digits past the millisecond", "20260301-12:34:56.789123", Date.UTC(2026, 2, 1, 12, 34, 56, 789)],
    ["reads a leap day", "20240229-00:00:00", Date.UTC(2024, 1, 29)],
    ["reads a leap second as its last millisecond", "20161231-23:59:60", Date.UTC(2016, 11, 31, 23, 59, 59, 999)],
    ["reads a leap second with a fraction the same", "20161231-23:59:60.25", Date.UTC(2016, 11, 31, 23, 59, 59, 999)],
    ["refuses a leap second with a bad fraction", "20161231-23:59:60.2x", NaN],
    ["reads a fraction of one digit", "20260301-12:34:56.7", Date.UTC(2026, 2, 1, 12, 34, 56, 700)],
    ["refuses a fraction of ten digits", "20260301-12:34:56.1234567890", NaN],
    ["refuses letters in the milliseconds", "20260301-12:34:56.7a9", NaN],
    ["refuses a colon for the point", "20260301-12:34:56:789", NaN],
    ["refuses February 30th", "20260230-00:00:00", NaN],
    ["refuses hour 24", "20260301-24:00:00", NaN],
    ["refuses a missing dash", "20260301 12:34:56", NaN],
    ["refuses an empty fraction", "20260301-12:34:56.", NaN],
    ["refuses letters", "2026O301-12:34:56", NaN],
  ])("%s", (_name, input, expected) => {
    expect(read(input)).toEqual(expected);
  });

  it("writes what Date's ISO string says, for any instant from year 0 to 9999", () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), (ms) => {
        const buf = Buffer.alloc(21);
        expect(writeUtcTimestamp(buf, 0, ms)).toBe(21);
        const iso = new Date(ms).toISOString(); // 2026-03-01T12:34:56.789Z
        const expected = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 23)}`;
        expect(buf.toString("latin1")).toBe(expected);
        expect(readUtcTimestamp(buf, 0, 21)).toBe(ms);
      }),
    );
  });
});

describe("UtcTimestampWriter", () => {
  it("writes what writeUtcTimestamp writes, millisecond after millisecond within a second and across", () => {
    const writer = new UtcTimestampWriter();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 253_402_300_700_000 }),
        fc.array(fc.integer({ min: 0, max: 1500 }), { maxLength: 30 }),
        (base, steps) => {
          let ms = base;
          for (const step of steps) {
            ms += step;
            const a = Buffer.alloc(21);
            const b = Buffer.alloc(21);
            expect(writer.write(a, 0, ms)).toBe(writeUtcTimestamp(b, 0, ms));
            expect(a.toString("latin1")).toBe(b.toString("latin1"));
            let sum = 0;
            for (const byte of a) sum += byte;
            expect(writer.sum).toBe(sum);
          }
        },
      ),
    );
  });

  it("writes what writeUtcTimestamp writes, across days and back", () => {
    const writer = new UtcTimestampWriter();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -86_400_000, max: 253_402_300_799_999 }), { maxLength: 20 }), (times) => {
        for (const ms of times) {
          const a = Buffer.alloc(21);
          const b = Buffer.alloc(21);
          expect(writer.write(a, 0, ms)).toBe(writeUtcTimestamp(b, 0, ms));
          expect(a.toString("latin1")).toBe(b.toString("latin1"));
        }
      }),
    );
  });
});
