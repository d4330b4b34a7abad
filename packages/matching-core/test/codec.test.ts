import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter, SnapshotError } from "../src/codec.ts";

describe("ByteWriter and ByteReader", () => {
  it.each([
    ["empty", ""],
    ["short ASCII", "order-1"],
    ["64 ASCII characters (the fast path's longest)", "x".repeat(64)],
    ["65 ASCII characters", "y".repeat(65)],
    ["non-ASCII at the start", "ñ-1"],
    ["non-ASCII at the end of a short string", "order-é"],
    ["CJK", "訂單-42"],
    ["astral plane", "🙂 id"],
  ])("round-trips a string: %s", (_, s) => {
    const w = new ByteWriter(8);
    w.u8(7);
    w.string(s);
    w.u32(0xdeadbeef);
    const r = new ByteReader(w.view8());
    expect(r.u8()).toBe(7);
    expect(r.string()).toBe(s);
    expect(r.u32()).toBe(0xdeadbeef);
    expect(r.remaining).toBe(0);
  });

  it("claims fixed-size records, growing the buffer as needed", () => {
    const w = new ByteWriter(4);
    for (let i = 0; i < 100; i++) {
      const at = w.claim(12);
      w.dataView.setFloat64(at, i + 0.5, true);
      w.dataView.setInt32(at + 8, -i, true);
    }
    expect(w.length).toBe(1_200);
    const r = new ByteReader(w.view8());
    for (let i = 0; i < 100; i++) {
      expect(r.f64()).toBe(i + 0.5);
      expect(r.i32()).toBe(-i || 0);
    }
  });

  it("refuses to read past the end", () => {
    const w = new ByteWriter();
    w.string("abc");
    expect(() => new ByteReader(w.view8().subarray(0, 5)).string()).toThrow(SnapshotError);
  });
});
