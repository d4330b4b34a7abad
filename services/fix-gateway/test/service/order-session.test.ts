// The FIX gateway's OrderEntry.Session stream against a real risk gateway: it asks for
// acknowledgements only (its reports come from the account's report stream), so the
// account's execution reports never travel on it.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata, type ClientDuplexStream, type ServiceError } from "@grpc/grpc-js";
import {
  OrderEntryClient,
  OrderType,
  Side,
  StpMode,
  TimeInForce,
  type OrderRequest,
  type RequestAck,
  type SessionRequest,
  type SessionResponse,
} from "@tradeplane/contracts";
import { createLogger } from "@tradeplane/platform";
import { OrderSessionStream } from "../../src/adapters/order-session.ts";
import { REFERENCE_PRICE, startFixVenue, type FixVenue } from "../support/venue.ts";

const ACCOUNT = "acc1";
const TOKEN = `${ACCOUNT}-token-0123456789`;
const logger = createLogger({
  service: "test",
  level: "warn",
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

let venue: FixVenue;
let client: OrderEntryClient;

beforeAll(async () => {
  venue = await startFixVenue("fixsession", [{ id: "a", compId: "BROKER_A", account: ACCOUNT }]);
  client = new OrderEntryClient(venue.fixConfig.orderEntryAddress, credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await venue?.close();
});

let n = 0;
const submit = (): OrderRequest => ({
  request: {
    $case: "submitOrder",
    value: {
      account: "",
      clientOrderId: `os-${++n}`,
      instrument: "INFY",
      side: Side.BUY,
      orderType: OrderType.LIMIT,
      timeInForce: TimeInForce.DAY,
      price: REFERENCE_PRICE - 100,
      stopPrice: 0,
      qty: 1,
      postOnly: false,
      stpMode: StpMode.UNSPECIFIED,
      displayQty: 0,
      stpGroup: 0,
    },
  },
  traceparent: "",
});

/** Sends one request on the gateway's stream; resolves with its ack. */
const ackOf = (stream: OrderSessionStream, request: OrderRequest) =>
  new Promise<RequestAck>((resolve, reject) =>
    stream.send({ request, acked: resolve, failed: (err: ServiceError) => reject(err) }),
  );

describe("OrderSessionStream against a real risk gateway", () => {
  it("gets its acks and none of the account's reports, which a session that asks for them gets", async () => {
    // What the risk gateway sends on the FIX gateway's stream, seen beside the stream's own reader.
    const seen: string[] = [];
    const observed = {
      session: (md: Metadata) => {
        const call = client.session(md);
        call.on("data", (m: SessionResponse) => seen.push(m.message?.$case ?? ""));
        return call;
      },
    } as unknown as OrderEntryClient;
    const stream = new OrderSessionStream(observed, TOKEN, ACCOUNT, logger);

    // A session of the same account that asks for reports: it shows when the order's report went out.
    const md = new Metadata();
    md.set("authorization", `Bearer ${TOKEN}`);
    const witness: ClientDuplexStream<SessionRequest, SessionResponse> = client.session(md);
    const reportsSeen = new Set<number>();
    witness.on("data", (m: SessionResponse) => {
      if (m.message?.$case === "reports")
        for (const r of m.message.value.reports) reportsSeen.add(r.order?.orderId ?? 0);
    });
    witness.on("error", () => undefined);
    const opened = new Promise<void>((resolve) => witness.once("data", () => resolve()));
    witness.write({
      sequence: 1,
      message: {
        $case: "open",
        value: { account: "", cancelOnDisconnect: false, heartbeatIntervalMs: 0, acksOnly: false },
      },
    });
    await opened;

    const first = await ackOf(stream, submit());
    expect(first).toMatchObject({ index: 0, accepted: true, clientOrderId: `os-${n}` });
    for (let i = 0; i < 400 && !reportsSeen.has(first.orderId); i++) await new Promise((r) => setTimeout(r, 25));
    expect(reportsSeen.has(first.orderId)).toBe(true);
    // The report went to every session of the account by now: the next ack follows anything queued before it.
    const second = await ackOf(stream, submit());
    expect(second).toMatchObject({ index: 0, accepted: true, clientOrderId: `os-${n}` });
    expect(seen.filter((k) => k !== "heartbeat")).toEqual(["opened", "acks", "acks"]);

    stream.close();
    witness.end();
  });
});
