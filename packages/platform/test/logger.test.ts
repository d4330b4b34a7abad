import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { createLogger } from "../src/index.ts";

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
  };
}

describe("createLogger", () => {
  it("writes JSON lines with a level name, service and message", () => {
    const { stream, lines } = capture();
    createLogger({ service: "engine", destination: stream, base: { venue: "nse" } }).warn({ seq: 3 }, "lagging");
    expect(lines()[0]).toMatchObject({ level: "warn", service: "engine", venue: "nse", seq: 3, msg: "lagging" });
  });

  it("never writes secrets", () => {
    const { stream, lines } = capture();
    const logger = createLogger({ service: "risk", destination: stream });
    logger.info({ token: "abc", account: { id: "a1", password: "p" } }, "login");
    const text = JSON.stringify(lines()[0]);
    expect(text).not.toContain("abc");
    expect(text).not.toContain('"p"');
    expect(text).toContain("a1");
  });
});
