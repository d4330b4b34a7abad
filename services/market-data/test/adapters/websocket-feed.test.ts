import { describe, expect, it } from "vitest";
import { BarInterval, MarketDataChannel } from "@tradeplane/contracts";
import { parseWsMessage } from "../../src/adapters/websocket-feed.ts";

describe("parseWsMessage: the WebSocket feed's client messages", () => {
  it.each([
    { name: "not JSON", text: "{x", want: "message is not JSON" },
    { name: "an array", text: "[]", want: "message must be a JSON object" },
    { name: "an unknown type", text: '{"type":"hello"}', want: 'type must be "subscribe" or "unsubscribe"' },
    {
      name: "instruments not an array",
      text: '{"type":"subscribe","instruments":"INFY"}',
      want: "instruments must be an array",
    },
    {
      name: "an id that is neither a short string nor an integer",
      text: '{"type":"subscribe","id":{"a":1}}',
      want: "id must be a string of at most 64 characters or an integer",
    },
    {
      name: "an id longer than 64 characters",
      text: `{"type":"subscribe","id":"${"x".repeat(65)}"}`,
      want: "id must be a string of at most 64 characters or an integer",
    },
    {
      name: "a bad bar interval",
      text: '{"type":"subscribe","barInterval":"WEEK"}',
      want: "barInterval is not a bar interval",
    },
  ])("refuses $name", ({ text, want }) => {
    expect(parseWsMessage(text)).toBe(want);
  });

  it("reads a subscription with channel names with or without their proto prefix", () => {
    expect(
      parseWsMessage(
        '{"type":"subscribe","id":7,"instruments":["INFY"],"channels":["L2","MARKET_DATA_CHANNEL_TRADES",8],"depth":5,"barInterval":"BAR_INTERVAL_MINUTE_5","fromSequence":42}',
      ),
    ).toEqual({
      type: "subscribe",
      id: 7,
      request: {
        instruments: ["INFY"],
        channels: [MarketDataChannel.L2, MarketDataChannel.TRADES, MarketDataChannel.AUCTION],
        depth: 5,
        conflationIntervalMs: 0,
        barInterval: BarInterval.MINUTE_5,
        fromSequence: 42,
      },
    });
  });

  it("an unknown channel name becomes an invalid channel for validation to refuse", () => {
    const m = parseWsMessage('{"type":"subscribe","channels":["L9"]}');
    expect(typeof m !== "string" && m.type === "subscribe" && m.request.channels).toEqual([-1]);
  });
});
