import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  Command,
  EngineEvent,
  EngineEventBatch,
  SessionRequest,
  SubmitOrderRequest,
  SubscribeRequest,
  SetLimitsRequest,
  type MessageCodec,
} from "../src/index.ts";

// Messages that cross a trust boundary: client requests at the gateways, and the log
// records every service reads back from JetStream.
const codecs: Array<[string, MessageCodec<unknown>]> = [
  ["Command", Command as MessageCodec<unknown>],
  ["EngineEvent", EngineEvent as MessageCodec<unknown>],
  ["EngineEventBatch", EngineEventBatch as MessageCodec<unknown>],
  ["SessionRequest", SessionRequest as MessageCodec<unknown>],
  ["SubmitOrderRequest", SubmitOrderRequest as MessageCodec<unknown>],
  ["SubscribeRequest", SubscribeRequest as MessageCodec<unknown>],
  ["SetLimitsRequest", SetLimitsRequest as MessageCodec<unknown>],
];

/** Decodes, and says how it ended; a hang would fail the test on its timeout. */
function outcome(codec: MessageCodec<unknown>, bytes: Uint8Array): "decoded" | "threw" {
  try {
    const message = codec.decode(bytes);
    expect(typeof message).toBe("object");
    return "decoded";
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return "threw";
  }
}

describe("decoding hostile bytes", () => {
  it.each(codecs)("%s either throws an Error or yields a message for random bytes", (_name, codec) => {
    const seen = { decoded: 0, threw: 0 };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        seen[outcome(codec, bytes)]++;
      }),
      { numRuns: 3000, seed: 20_240_601 },
    );
    // Both paths were exercised, so the property says something.
    expect(seen.decoded).toBeGreaterThan(0);
    expect(seen.threw).toBeGreaterThan(0);
  });

  it.each(codecs)("%s survives valid messages with corrupted bytes", (_name, codec) => {
    const valid = Command.encode(
      Command.fromPartial({
        timestamp: { seconds: 1_767_225_600, nanos: 5 },
        account: "acme-01",
        body: { $case: "newOrder", value: { clientOrderId: "c-1", instrument: "BTC-USD", price: 10, qty: 1 } },
      }),
    ).finish();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat({ max: valid.length }),
        (flips, cut) => {
          const bytes = valid.slice(0, cut);
          for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
          outcome(codec, bytes);
        },
      ),
      { numRuns: 2000, seed: 7 },
    );
  });

  it("rejects a length prefix that points past the end instead of reading on", () => {
    // Field 1 (timestamp), length 100, but only 2 bytes follow.
    expect(() => Command.decode(new Uint8Array([0x0a, 100, 0x08, 0x01]))).toThrow();
  });

  it("rejects a varint that never ends", () => {
    expect(() => EngineEvent.decode(new Uint8Array([0x08, ...new Array<number>(16).fill(0xff)]))).toThrow();
  });
});
