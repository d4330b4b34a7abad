import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, status, type ServiceError } from "@grpc/grpc-js";
import type { NatsConnection } from "@nats-io/transport-node";
import WebSocket from "ws";
import {
  BarInterval,
  MarketDataChannel,
  MarketDataClient,
  type SubscribeRequest,
  type SubscribeResponse,
} from "@tradeplane/contracts";
import { MAX_STATUS_MESSAGE_CHARS } from "@tradeplane/platform";
import { NatsServer, unary } from "@tradeplane/testkit";
import { venueFixture } from "@tradeplane/matching/test-support/venue-fixture";
import { main, type StartedMarketData } from "../../src/main.ts";
import { serviceConfig } from "../support/service-config.ts";

/**
 * MarketData's documented errors, per RPC, and the WebSocket feed's protocol as docs/api.md
 * describes it to client authors: a table of requests and the answer each must get.
 */
const VENUE = "mdc";
const LONG = "Q".repeat(2_000);

let server: NatsServer;
let nc: NatsConnection;
let md: StartedMarketData;
let client: MarketDataClient;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = (await venueFixture(server.url, VENUE)).nc;
  md = await main(serviceConfig(server.url, VENUE));
  client = new MarketDataClient(`127.0.0.1:${md.grpcPort}`, credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await md?.shutdown.run();
  await nc?.close();
  await server?.dispose();
});

const failure = (call: Promise<unknown>): Promise<ServiceError> =>
  call.then(
    () => Promise.reject(new Error("the call succeeded")),
    (err: ServiceError) => err,
  );

const subscribeRequest = (o: Partial<SubscribeRequest> = {}): SubscribeRequest => ({
  instruments: ["INFY"],
  channels: [MarketDataChannel.L1],
  depth: 0,
  conflationIntervalMs: 0,
  barInterval: BarInterval.UNSPECIFIED,
  fromSequence: undefined,
  ...o,
});

/** The first message or error of a Subscribe stream. */
const firstOfSubscribe = (req: SubscribeRequest): Promise<SubscribeResponse | ServiceError> =>
  new Promise((resolve) => {
    const stream = client.subscribe(req);
    stream.on("data", (m: SubscribeResponse) => {
      resolve(m);
      stream.cancel();
    });
    stream.on("error", (err: ServiceError) => resolve(err));
  });

describe("MarketData: each RPC's documented answers", () => {
  it("ListInstruments lists every instrument", async () => {
    const res = await unary<{ instruments: { symbol: string }[] }>((cb) => client.listInstruments({}, cb));
    expect(res.instruments.map((i) => i.symbol)).toEqual(["INFY", "TCS"]);
  });

  it.each([
    [
      "GetSnapshot of an unlisted instrument",
      () => unary((cb) => client.getSnapshot({ instrument: "NOPE", depth: 0, includeOrders: false }, cb)),
    ],
    [
      "GetSnapshot without an instrument",
      () => unary((cb) => client.getSnapshot({ instrument: "", depth: 0, includeOrders: false }, cb)),
    ],
    [
      "GetSnapshot deeper than 500 levels",
      () => unary((cb) => client.getSnapshot({ instrument: "INFY", depth: 501, includeOrders: false }, cb)),
    ],
    [
      "GetTrades of an unlisted instrument",
      () => unary((cb) => client.getTrades({ instrument: "NOPE", fromTradeId: 0, limit: 0 }, cb)),
    ],
    [
      "GetTrades of more than 1000",
      () => unary((cb) => client.getTrades({ instrument: "INFY", fromTradeId: 0, limit: 1001 }, cb)),
    ],
    [
      "GetBars without an interval",
      () =>
        unary((cb) =>
          client.getBars(
            {
              instrument: "INFY",
              interval: BarInterval.UNSPECIFIED,
              startTime: undefined,
              endTime: undefined,
              limit: 0,
            },
            cb,
          ),
        ),
    ],
    [
      "GetBars of more than 5000",
      () =>
        unary((cb) =>
          client.getBars(
            {
              instrument: "INFY",
              interval: BarInterval.MINUTE_1,
              startTime: undefined,
              endTime: undefined,
              limit: 5001,
            },
            cb,
          ),
        ),
    ],
    [
      "GetTrades with a 2,000-character instrument",
      () => unary((cb) => client.getTrades({ instrument: LONG, fromTradeId: 0, limit: 0 }, cb)),
    ],
  ])("%s is INVALID_ARGUMENT with a short message", async (_name, call) => {
    const err = await failure(call());
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_CHARS);
    expect(err.details).not.toContain("Q".repeat(41));
  });

  it.each([
    ["no instruments", subscribeRequest({ instruments: [] })],
    ["more than 100 instruments", subscribeRequest({ instruments: Array.from({ length: 101 }, (_, i) => `S${i}`) })],
    ["an unlisted instrument", subscribeRequest({ instruments: ["NOPE"] })],
    ["no channel", subscribeRequest({ channels: [] })],
    ["an unknown channel", subscribeRequest({ channels: [42 as MarketDataChannel] })],
    ["a depth above 500", subscribeRequest({ channels: [MarketDataChannel.L2], depth: 501 })],
    ["a conflation interval above a minute", subscribeRequest({ conflationIntervalMs: 60_001 })],
    ["a 2,000-character symbol", subscribeRequest({ instruments: [LONG] })],
  ])("Subscribe with %s ends with INVALID_ARGUMENT", async (_name, req) => {
    const first = await firstOfSubscribe(req);
    expect(first).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((first as ServiceError).details.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_CHARS);
  });

  it("Subscribe to L1 starts with the current top of book", async () => {
    const first = await firstOfSubscribe(subscribeRequest());
    // The current state comes first, numbered with the channel's sequence so far (0 before its first update).
    expect(first).toMatchObject({ instrument: "INFY", channel: MarketDataChannel.L1, sequence: 0 });
  });
});

/** A WebSocket client that collects the server's messages. */
async function wsClient(): Promise<{
  ws: WebSocket;
  next: () => Promise<Record<string, unknown>>;
  closed: Promise<number>;
}> {
  const ws = new WebSocket(`ws://127.0.0.1:${md.wsPort}/`);
  const queue: Record<string, unknown>[] = [];
  const waiting: ((m: Record<string, unknown>) => void)[] = [];
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString()) as Record<string, unknown>;
    const w = waiting.shift();
    if (w !== undefined) w(m);
    else queue.push(m);
  });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve) => {
      const m = queue.shift();
      if (m !== undefined) resolve(m);
      else waiting.push(resolve);
    });
  return { ws, next, closed };
}

describe("the WebSocket feed, as docs/api.md describes it", () => {
  it.each([
    ["text that is not JSON", "{nope", { type: "error", code: "INVALID_ARGUMENT", message: "message is not JSON" }],
    ["a JSON array", "[]", { type: "error", code: "INVALID_ARGUMENT", message: "message must be a JSON object" }],
    ["an unknown type", '{"type":"hello"}', { type: "error", code: "INVALID_ARGUMENT" }],
    [
      "an id that is an object",
      '{"type":"subscribe","id":{"a":1},"instruments":["INFY"],"channels":["L1"]}',
      { type: "error", code: "INVALID_ARGUMENT" },
    ],
    [
      "an unlisted instrument",
      '{"type":"subscribe","id":"s","instruments":["NOPE"],"channels":["L1"]}',
      { type: "error", id: "s", code: "INVALID_ARGUMENT" },
    ],
    [
      "an unknown channel name",
      '{"type":"subscribe","id":"s","instruments":["INFY"],"channels":["L9"]}',
      { type: "error", id: "s", code: "INVALID_ARGUMENT" },
    ],
    [
      "a depth above 500",
      '{"type":"subscribe","id":"s","instruments":["INFY"],"channels":["L2"],"depth":501}',
      { type: "error", id: "s", code: "INVALID_ARGUMENT" },
    ],
    [
      "a 2,000-character symbol",
      JSON.stringify({ type: "subscribe", id: "s", instruments: [LONG], channels: ["L1"] }),
      { type: "error", id: "s", code: "INVALID_ARGUMENT" },
    ],
  ])("answers %s with an error and keeps the connection open", async (_name, text, expected) => {
    const c = await wsClient();
    c.ws.send(text);
    const answer = await c.next();
    expect(answer).toMatchObject(expected);
    expect(String(answer.message)).not.toContain("Q".repeat(41));
    // Still open: a good subscription works on the same connection.
    c.ws.send('{"type":"subscribe","id":7,"instruments":["INFY"],"channels":["MARKET_DATA_CHANNEL_L1"]}');
    expect(await c.next()).toEqual({ type: "subscribed", id: 7 });
    expect(await c.next()).toMatchObject({
      type: "update",
      id: 7,
      instrument: "INFY",
      channel: "MARKET_DATA_CHANNEL_L1",
    });
    c.ws.close();
  });

  it("answers a binary frame with an error", async () => {
    const c = await wsClient();
    c.ws.send(Buffer.from([1, 2, 3]));
    expect(await c.next()).toMatchObject({ type: "error", code: "INVALID_ARGUMENT", message: "send text frames" });
    c.ws.close();
  });

  it("closes the connection with code 1009 on a frame over 64 KiB", async () => {
    const c = await wsClient();
    c.ws.send(JSON.stringify({ type: "subscribe", pad: "x".repeat(70_000) }));
    expect(await c.closed).toBe(1009);
  });

  it("refuses a 65th subscription on one connection with RESOURCE_EXHAUSTED, and takes it after an unsubscribe", async () => {
    const c = await wsClient();
    const subscribe = (id: number) =>
      c.ws.send(JSON.stringify({ type: "subscribe", id, instruments: ["INFY"], channels: ["STATE"] }));
    for (let id = 1; id <= 64; id++) {
      subscribe(id);
      let m = await c.next();
      while (m.type === "update") m = await c.next();
      expect(m).toEqual({ type: "subscribed", id });
    }
    subscribe(65);
    let refused = await c.next();
    while (refused.type === "update") refused = await c.next();
    expect(refused).toMatchObject({ type: "error", id: 65, code: "RESOURCE_EXHAUSTED" });
    c.ws.send('{"type":"unsubscribe","id":1}');
    subscribe(65);
    let again = await c.next();
    while (again.type === "update") again = await c.next();
    expect(again).toEqual({ type: "subscribed", id: 65 });
    c.ws.close();
  });

  it("sends updates as proto JSON: camelCase names, enum names, RFC 3339 times", async () => {
    const c = await wsClient();
    c.ws.send('{"type":"subscribe","instruments":["INFY"],"channels":["L2"],"depth":5}');
    expect(await c.next()).toEqual({ type: "subscribed" });
    const update = await c.next();
    expect(update).toMatchObject({
      type: "update",
      instrument: "INFY",
      channel: "MARKET_DATA_CHANNEL_L2",
    });
    // Proto JSON leaves out fields at their zero value: before the venue's first event the
    // sequences are 0, so they are absent.
    expect(update.sequence).toBeUndefined();
    expect(update).toHaveProperty("bookSnapshot");
    if (update.time !== undefined) expect(String(update.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
    c.ws.close();
  });
});
