import { WebSocketServer, type WebSocket } from "ws";
import { BarInterval, MarketDataChannel, SubscribeResponse, type SubscribeRequest } from "@tradeplane/contracts";
import type { Logger } from "@tradeplane/platform";
import type { MarketState } from "../domain/market-state.ts";
import { isProblem, validateSubscribe } from "../domain/requests.ts";
import type { Hub } from "./hub.ts";
import type { Outgoing } from "./subscriber.ts";
import type { Subscriber } from "./subscriber.ts";

/** Bytes buffered on a socket above which the feed waits before writing more. */
const HIGH_WATER_BYTES = 1 << 20;
const DRAIN_POLL_MS = 5;
/** Largest client message accepted. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Longest subscription id (a string; or an integer). Every update repeats it. */
export const MAX_WS_ID_CHARS = 64;
/** Most subscriptions one connection may hold at once. */
export const MAX_WS_SUBSCRIPTIONS = 64;

/**
 * The WebSocket JSON feed: the same channels, sequences and conflation as gRPC Subscribe.
 *
 * Client messages (one JSON object per text frame):
 *   {"type":"subscribe","id":"any","instruments":["INFY"],"channels":["L2","TRADES"],
 *    "depth":10,"conflationIntervalMs":0,"barInterval":"MINUTE_1","fromSequence":123}
 *   {"type":"unsubscribe","id":"any"}        (no id: every subscription of the connection)
 * Channel and interval names may carry their proto prefix (MARKET_DATA_CHANNEL_L2) or not.
 * Server messages: {"type":"update","id":..., ...SubscribeResponse in proto JSON (camelCase
 * names, enum names, times as RFC 3339)}; {"type":"subscribed","id":..}; and
 * {"type":"error","id":..,"code":"INVALID_ARGUMENT"|"RESOURCE_EXHAUSTED","message":".."}.
 * A bad message gets an error and the connection stays open; a subscription whose
 * L3/TRADES/STATE queue overflows ends with RESOURCE_EXHAUSTED. An id is a string of at most
 * MAX_WS_ID_CHARS characters or an integer (every update repeats it); a connection holds at
 * most MAX_WS_SUBSCRIPTIONS subscriptions. docs/api.md is the client authors' reference.
 */
export type WsClientMessage =
  | { readonly type: "subscribe"; readonly id: unknown; readonly request: SubscribeRequest }
  | { readonly type: "unsubscribe"; readonly id: unknown };

function enumValue<T extends Record<string, number>>(values: T, prefix: string, v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return -1;
  const name = v.startsWith(prefix) ? v.slice(prefix.length) : v;
  return Object.hasOwn(values, name) ? values[name]! : -1;
}

/** Parses a client message; a string is the reason it is not one. */
export function parseWsMessage(text: string): WsClientMessage | string {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return "message is not JSON";
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return "message must be a JSON object";
  const m = o as Record<string, unknown>;
  const id = m.id;
  if (
    id !== undefined &&
    !(typeof id === "string" && id.length <= MAX_WS_ID_CHARS) &&
    !(typeof id === "number" && Number.isSafeInteger(id))
  )
    return `id must be a string of at most ${MAX_WS_ID_CHARS} characters or an integer`;
  if (m.type === "unsubscribe") return { type: "unsubscribe", id: m.id };
  if (m.type !== "subscribe") return 'type must be "subscribe" or "unsubscribe"';
  const num = (k: string): number => (m[k] === undefined ? 0 : typeof m[k] === "number" ? m[k] : NaN);
  if (m.instruments !== undefined && !Array.isArray(m.instruments)) return "instruments must be an array";
  if (m.channels !== undefined && !Array.isArray(m.channels)) return "channels must be an array";
  const instruments = ((m.instruments as unknown[]) ?? []).map((s) => (typeof s === "string" ? s : ""));
  const channels = ((m.channels as unknown[]) ?? []).map(
    (c) => enumValue(MarketDataChannel, "MARKET_DATA_CHANNEL_", c) as MarketDataChannel,
  );
  const barInterval =
    m.barInterval === undefined ? BarInterval.UNSPECIFIED : enumValue(BarInterval, "BAR_INTERVAL_", m.barInterval);
  if (barInterval < 0) return "barInterval is not a bar interval";
  const from = m.fromSequence;
  if (from !== undefined && typeof from !== "number") return "fromSequence must be a number";
  return {
    type: "subscribe",
    id: m.id,
    request: {
      instruments,
      channels,
      depth: num("depth"),
      conflationIntervalMs: num("conflationIntervalMs"),
      barInterval: barInterval as BarInterval,
      fromSequence: from,
    },
  };
}

export interface WebSocketFeedDeps {
  readonly host: string;
  readonly port: number;
  readonly state: MarketState;
  readonly hub: Hub;
  readonly logger: Logger;
  /** L2 levels per side when a request says 0. */
  readonly defaultDepth: number;
}

export interface WebSocketFeed {
  readonly port: number;
  close(): Promise<void>;
}

export async function startWebSocketFeed(deps: WebSocketFeedDeps): Promise<WebSocketFeed> {
  const { hub, state, logger } = deps;
  const wss = new WebSocketServer({ host: deps.host, port: deps.port, maxPayload: MAX_PAYLOAD_BYTES });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  wss.on("error", (err) => logger.error({ err }, "websocket server error"));
  wss.on("connection", (ws: WebSocket) => {
    const subs = new Map<unknown, Subscriber>();
    const send = (o: object): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(o));
    };
    const close = (id: unknown): void => {
      const s = subs.get(id);
      if (s !== undefined) hub.unsubscribe(s);
      subs.delete(id);
    };
    ws.on("message", (data, isBinary) => {
      const parsed = isBinary ? "send text frames" : parseWsMessage(data.toString());
      if (typeof parsed === "string") return send({ type: "error", code: "INVALID_ARGUMENT", message: parsed });
      if (parsed.type === "unsubscribe") {
        if (parsed.id === undefined) for (const id of [...subs.keys()]) close(id);
        else close(parsed.id);
        return;
      }
      const v = validateSubscribe(parsed.request, (s) => state.instruments.has(s), deps.defaultDepth);
      if (isProblem(v))
        return send({ type: "error", id: parsed.id, code: "INVALID_ARGUMENT", message: `${v.field}: ${v.message}` });
      close(parsed.id);
      if (subs.size >= MAX_WS_SUBSCRIPTIONS)
        return send({
          type: "error",
          id: parsed.id,
          code: "RESOURCE_EXHAUSTED",
          message: `a connection holds at most ${MAX_WS_SUBSCRIPTIONS} subscriptions: unsubscribe one first`,
        });
      const prefix =
        parsed.id === undefined ? '{"type":"update",' : `{"type":"update","id":${JSON.stringify(parsed.id)},`;
      send({ type: "subscribed", id: parsed.id });
      const sub = hub.subscribe(
        {
          write: (out: Outgoing) => {
            out.json ??= JSON.stringify(SubscribeResponse.toJSON(out.msg)).slice(1);
            ws.send(prefix + out.json);
            return ws.bufferedAmount < HIGH_WATER_BYTES;
          },
          onDrain: (resume) => {
            const poll = (): void => {
              if (ws.readyState !== ws.OPEN) return;
              if (ws.bufferedAmount < HIGH_WATER_BYTES / 2) resume();
              else setTimeout(poll, DRAIN_POLL_MS);
            };
            setTimeout(poll, DRAIN_POLL_MS);
          },
          fail: (code, message) => {
            subs.delete(parsed.id);
            send({ type: "error", id: parsed.id, code, message });
          },
        },
        v,
        "websocket",
      );
      subs.set(parsed.id, sub);
    });
    ws.on("close", () => {
      for (const id of [...subs.keys()]) close(id);
    });
    ws.on("error", () => ws.terminate());
  });
  const address = wss.address();
  const port = typeof address === "object" && address !== null ? address.port : deps.port;
  logger.info({ host: deps.host, port }, "websocket feed listening");
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
