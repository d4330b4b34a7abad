import { describe, expect, it } from "vitest";
import { MAX_WORKLOAD_LINE, WorkloadError, WorkloadParser, parseWorkload, type Workload } from "../src/workload.ts";

/** The text pushed `size` characters at a time, the batches copied out as they come (the parser reuses its batch). */
function parseInChunks(text: string, size: number): Workload {
  const parser = new WorkloadParser(4);
  const rows: { kind: number; id: number; side: number; price: number; qty: number }[] = [];
  const take = (w: Workload) => {
    for (let i = 0; i < w.count; i++)
      rows.push({ kind: w.kind[i]!, id: w.id[i]!, side: w.side[i]!, price: w.price[i]!, qty: w.qty[i]! });
  };
  for (let at = 0; at < text.length; at += size) take(parser.push(text.slice(at, at + size)));
  take(parser.push("", true));
  return {
    count: rows.length,
    kind: Uint8Array.from(rows, (r) => r.kind),
    id: Float64Array.from(rows, (r) => r.id),
    side: Uint8Array.from(rows, (r) => r.side),
    price: Float64Array.from(rows, (r) => r.price),
    qty: Float64Array.from(rows, (r) => r.qty),
  };
}

const CHUNKS = [1, 2, 3, 5, 7, 16, 1_000_000];
const GOOD = "N,1,B,L,100000,5\nN,2,S,M,0,3\n\nC,1\nR,2,100001,4\nN,3,S,L,100002,7\n";

describe("WorkloadParser", () => {
  it.each(CHUNKS)("parses a text pushed %i characters at a time as the whole text", (size) => {
    expect(parseInChunks(GOOD, size)).toEqual(parseWorkload(GOOD));
  });

  it.each([
    ["a last line without a newline", GOOD.slice(0, -1)],
    ["CRLF line ends", GOOD.replaceAll("\n", "\r\n").replace("\r\n\r\n", "\r\n\n")],
    ["empty lines anywhere", `\n\n${GOOD}\n\n`],
  ])("reads %s as LF lines", (_, text) => {
    for (const size of CHUNKS) expect(parseInChunks(text, size)).toEqual(parseWorkload(GOOD));
  });

  it("reads an empty text as no lines", () => {
    expect(parseWorkload("").count).toBe(0);
    expect(parseInChunks("\n\n", 1).count).toBe(0);
  });

  // Each bad text fails with the same message whatever the chunks, naming the file's line.
  it.each([
    ["a bad first line", "Q,1\nN,1,B,L,100000,5\n", "line 1: the kind is N, C or R: Q,1"],
    ["a bad line amid good ones", "N,1,B,L,100000,5\nC,1\nN,2,X,L,1,1\nC,2\n", "line 3: side is B or S, type L or M"],
    ["a bad last line without a newline", "N,1,B,L,100000,5\nR,1,5", "line 2: a replace has 4 fields: R,1,5"],
    ["a bad line after empty ones (the file's line)", "\n\nC,x\n", "line 3: the order id is not an integer"],
    ["a CRLF file with a bad line", "C,1\r\nN,1,B,L,1.5,2\r\n", "line 2: price and quantity are whole numbers"],
    ["a CRLF empty line (as the whole-text parser)", "C,1\r\n\r\n", "line 2: the order id is not an integer"],
  ])("refuses %s, naming its line", (_, text, message) => {
    for (const size of CHUNKS) {
      let error: unknown;
      try {
        parseInChunks(text, size);
      } catch (err) {
        error = err;
      }
      expect(error, `chunks of ${size}`).toBeInstanceOf(WorkloadError);
      expect((error as Error).message, `chunks of ${size}`).toContain(message);
    }
  });

  it("refuses a line longer than the limit before holding more of it, echoing a short part", () => {
    const parser = new WorkloadParser();
    parser.push("C,1\nN,1,B,L,");
    let error: unknown;
    try {
      for (let i = 0; i < 10_000; i++) parser.push("9".repeat(100));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WorkloadError);
    expect((error as Error).message).toMatch(new RegExp(`^line 2: a line is at most ${MAX_WORKLOAD_LINE} characters`));
    expect((error as Error).message.length).toBeLessThan(150);
  });

  it("grows its batch past its first capacity, and reuses it for the next push", () => {
    const parser = new WorkloadParser(1);
    const a = parser.push("C,1\nC,2\nC,3\n");
    expect(a.count).toBe(3);
    expect([...a.id.subarray(0, 3)]).toEqual([1, 2, 3]);
    const b = parser.push("C,4\n");
    expect(b).toBe(a);
    expect(b.count).toBe(1);
    expect(parser.linesSeen).toBe(4);
  });
});
