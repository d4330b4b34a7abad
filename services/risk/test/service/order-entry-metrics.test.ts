import { jetstreamManager } from "@nats-io/jetstream";
import { Metadata, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  commandStreamName,
  Side,
  type CancelOrderRequest,
  type GetAccountPositionsResponse,
  type MassCancelRequest,
  type OrderRequest,
  type ReplaceOrderRequest,
  type SessionRequest,
  type SessionResponse,
} from "@tradeplane/contracts";
import { unary } from "@tradeplane/testkit";
import { auth, order, scrape, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

const VENUE = "oemet";
/** Long enough for any answer on a loaded machine, short enough to wait out once. */
const COMMAND_TIMEOUT_MS = 3_000;

/**
 * tp_risk_orders_total against a real gateway: every way an order request can end, unary and
 * Session, counted exactly once (a whole refused batch: once per request), under the kind,
 * outcome and reason it ended with, and nothing counted for a call that is not an order.
 */
describe("tp_risk_orders_total counts every order request once, by how it ended", () => {
  let venue: Venue;
  let n = 0;
  const id = (prefix: string) => `${prefix}-${++n}`;
  const alice = tokenOf("alice");

  beforeAll(async () => {
    venue = await startVenue({
      venue: VENUE,
      accounts: [{ name: "alice", limits: { maxOrderQty: 100 } }, { name: "bob" }],
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
    });
  });

  afterAll(async () => {
    await venue?.close();
  });

  /** Every series of the counter, as "kind/outcome/reason" -> value. */
  async function counts(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const line of (await scrape(venue)).split("\n")) {
      if (!line.startsWith("tp_risk_orders_total{")) continue;
      const label = (name: string) => line.match(new RegExp(`[{,]${name}="([^"]*)"`))?.[1] ?? "";
      out.set(`${label("kind")}/${label("outcome")}/${label("reason")}`, Number(line.slice(line.lastIndexOf(" ") + 1)));
    }
    return out;
  }

  /** What `after` counted beyond `before`, series by series (those that moved only). */
  function moved(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, value] of after) if (value !== (before.get(key) ?? 0)) out[key] = value - (before.get(key) ?? 0);
    return out;
  }

  /** A call that may fail: the test looks at the counter, not at the answer (the contract tests do). */
  const settled = (call: Promise<unknown>): Promise<void> =>
    call.then(
      () => undefined,
      () => undefined,
    );

  const submit = (md: Metadata, o: Parameters<typeof order>[0]) =>
    settled(unary((cb) => venue.orderEntry.submitOrder(order({ clientOrderId: id("s"), ...o }), md, cb)));
  const cancel = (r: Partial<CancelOrderRequest>) =>
    settled(
      unary((cb) =>
        venue.orderEntry.cancelOrder(
          { account: "", instrument: "INFY", target: undefined, clientOrderId: "", ...r },
          auth(alice),
          cb,
        ),
      ),
    );
  const replaceRequest = (r: Partial<ReplaceOrderRequest>): ReplaceOrderRequest => ({
    account: "",
    instrument: "INFY",
    target: undefined,
    clientOrderId: id("r"),
    price: 100_000,
    stopPrice: 0,
    qty: 1,
    ...r,
  });
  const replace = (r: Partial<ReplaceOrderRequest>) =>
    settled(unary((cb) => venue.orderEntry.replaceOrder(replaceRequest(r), auth(alice), cb)));
  const massCancel = (r: Partial<MassCancelRequest>) =>
    settled(
      unary((cb) =>
        venue.orderEntry.massCancel(
          { account: "", instrument: "", side: Side.UNSPECIFIED, clientOrderId: "", ...r },
          auth(alice),
          cb,
        ),
      ),
    );

  /** A resting sell of alice's, for the cancels and replaces to name. */
  let resting = "";
  const rest = async () => {
    resting = id("rest");
    await submit(auth(alice), { clientOrderId: resting, side: Side.SELL, price: 109_000 });
  };

  /** Runs `during` while the command log refuses every write (its largest message: 1 byte). */
  const logRefusing = async (during: () => Promise<unknown>): Promise<void> => {
    const jsm = await jetstreamManager(venue.nc);
    const stream = commandStreamName(VENUE);
    const { config } = await jsm.streams.info(stream);
    await jsm.streams.update(stream, { ...config, max_msg_size: 1 });
    try {
      await during();
    } finally {
      await jsm.streams.update(stream, config);
    }
  };

  /** Runs `during` while the engine is stopped (SIGSTOP): commands are stored, none is applied. */
  const engineStopped = async (during: () => Promise<unknown>): Promise<void> => {
    const pid = venue.engine.pid!;
    process.kill(pid, "SIGSTOP");
    try {
      await during();
    } finally {
      process.kill(pid, "SIGCONT");
    }
  };

  /** Opens a Session as alice, writes `messages`, and resolves once a batch is acked or the stream ends. */
  const session = (messages: SessionRequest["message"][]): Promise<void> =>
    new Promise((resolve) => {
      const s = venue.orderEntry.session(auth(alice));
      s.on("data", (m: SessionResponse) => {
        if (m.message?.$case !== "acks") return;
        s.end();
        resolve();
      });
      s.on("error", (_: ServiceError) => resolve());
      messages.forEach((message, i) => s.write({ sequence: i + 1, message }));
    });
  const open = {
    $case: "open",
    value: { account: "", cancelOnDisconnect: false, heartbeatIntervalMs: 0, acksOnly: false },
  } as const;
  const batch = (...requests: OrderRequest["request"][]) => ({
    $case: "batch" as const,
    value: { requests: requests.map((request) => ({ request, traceparent: "" })) },
  });
  const inSession = (...requests: OrderRequest["request"][]) => session([open, batch(...requests)]);
  const newOrder = (o: Parameters<typeof order>[0] = {}): OrderRequest["request"] => ({
    $case: "submitOrder",
    value: order({ clientOrderId: id("ss"), ...o }),
  });

  interface Case {
    readonly name: string;
    /** Done before the counter is read the first time (its own requests are not the case's). */
    readonly setup?: () => Promise<void>;
    readonly run: () => Promise<void>;
    /** "kind/outcome/reason" -> how much that series rose; every other series stays. */
    readonly counted: Record<string, number>;
  }

  const cases: Case[] = [
    // Unary calls
    { name: "a new order that rests", run: () => submit(auth(alice), {}), counted: { "submit/accepted/": 1 } },
    {
      name: "a new order the gateway's checks refuse",
      run: () => submit(auth(alice), { qty: 101 }),
      counted: { "submit/rejected/ACCOUNT_MAX_ORDER_QTY": 1 },
    },
    {
      name: "a new order the engine refuses",
      run: () => submit(auth(alice), { price: 150_000 }),
      counted: { "submit/rejected/OUTSIDE_PRICE_BAND": 1 },
    },
    {
      name: "a malformed new order (a string past its bound)",
      run: () => submit(auth(alice), { clientOrderId: "x".repeat(1_025) }),
      counted: { "any/invalid/MALFORMED_REQUEST": 1 },
    },
    {
      name: "a new order without credentials",
      run: () => submit(new Metadata(), {}),
      counted: { "submit/rejected/UNAUTHENTICATED": 1 },
    },
    {
      name: "a new order for another account (no label names it)",
      run: () => submit(auth(alice), { account: "bob" }),
      counted: { "submit/rejected/ACCOUNT_NOT_PERMITTED": 1 },
    },
    {
      name: "a new order for an account name that cannot be one",
      run: () => submit(auth(alice), { account: "bad name!" }),
      counted: { "any/invalid/MALFORMED_REQUEST": 1 },
    },
    {
      name: "a new order the engine does not confirm in time (stored, so accepted)",
      run: () => engineStopped(() => submit(auth(alice), {})),
      counted: { "submit/accepted/": 1 },
    },
    {
      name: "a new order the command log does not store",
      run: () => logRefusing(() => submit(auth(alice), {})),
      counted: { "submit/rejected/UNAVAILABLE": 1 },
    },
    {
      name: "a cancel of a resting order",
      setup: rest,
      run: () => cancel({ target: { $case: "origClientOrderId", value: resting } }),
      counted: { "cancel/accepted/": 1 },
    },
    {
      name: "a cancel of an order id the engine does not know",
      run: () => cancel({ target: { $case: "orderId", value: 987_654_321 } }),
      counted: { "cancel/rejected/UNKNOWN_ORDER": 1 },
    },
    {
      name: "a cancel refused by its syntax check (a symbol that cannot be one)",
      run: () => cancel({ instrument: "bad symbol!", target: { $case: "orderId", value: 1 } }),
      counted: { "cancel/rejected/MALFORMED_REQUEST": 1 },
    },
    { name: "a cancel without a target", run: () => cancel({}), counted: { "cancel/rejected/UNKNOWN_ORDER": 1 } },
    {
      name: "a replace of a resting order",
      setup: rest,
      run: () => replace({ target: { $case: "origClientOrderId", value: resting }, price: 108_000 }),
      counted: { "replace/accepted/": 1 },
    },
    {
      name: "a replace the gateway's checks refuse",
      setup: rest,
      run: () => replace({ target: { $case: "origClientOrderId", value: resting }, price: 108_000, qty: 101 }),
      counted: { "replace/rejected/ACCOUNT_MAX_ORDER_QTY": 1 },
    },
    {
      name: "a replace refused by its syntax check (no quantity)",
      run: () => replace({ target: { $case: "origClientOrderId", value: resting }, qty: 0 }),
      counted: { "replace/rejected/MALFORMED_REQUEST": 1 },
    },
    { name: "a replace without a target", run: () => replace({}), counted: { "replace/rejected/UNKNOWN_ORDER": 1 } },
    {
      name: "a replace of an order the account does not have",
      run: () => replace({ target: { $case: "origClientOrderId", value: "no-such-order" } }),
      counted: { "replace/rejected/UNKNOWN_ORDER": 1 },
    },
    { name: "a mass cancel", run: () => massCancel({}), counted: { "mass_cancel/accepted/": 1 } },
    {
      name: "a mass cancel of an unlisted instrument",
      run: () => massCancel({ instrument: "NOPE" }),
      counted: { "mass_cancel/rejected/UNKNOWN_INSTRUMENT": 1 },
    },
    {
      name: "a malformed call that is not an order (GetAccountPositions)",
      run: () =>
        settled(
          unary<GetAccountPositionsResponse>((cb) =>
            venue.orderEntry.getAccountPositions({ account: "", instrument: "x".repeat(1_025) }, auth(alice), cb),
          ),
        ),
      counted: {},
    },
    // Session requests
    { name: "a Session new order", run: () => inSession(newOrder()), counted: { "submit/accepted/": 1 } },
    {
      name: "a Session new order the gateway's checks refuse",
      run: () => inSession(newOrder({ qty: 101 })),
      counted: { "submit/rejected/ACCOUNT_MAX_ORDER_QTY": 1 },
    },
    {
      name: "a Session request with no body",
      run: () => inSession(undefined),
      counted: { "any/invalid/MALFORMED_REQUEST": 1 },
    },
    {
      name: "a Session request for another account (no label names it)",
      run: () => inSession(newOrder({ account: "bob" })),
      counted: { "submit/rejected/ACCOUNT_NOT_PERMITTED": 1 },
    },
    {
      name: "a Session cancel of a resting order",
      setup: rest,
      run: () =>
        inSession({
          $case: "cancelOrder",
          value: {
            account: "",
            instrument: "INFY",
            target: { $case: "origClientOrderId", value: resting },
            clientOrderId: "",
          },
        }),
      counted: { "cancel/accepted/": 1 },
    },
    {
      name: "a Session replace refused by its syntax check (no quantity)",
      run: () => inSession({ $case: "replaceOrder", value: replaceRequest({ qty: 0 }) }),
      counted: { "replace/rejected/MALFORMED_REQUEST": 1 },
    },
    {
      name: "a Session replace of an order the account does not have",
      run: () =>
        inSession({
          $case: "replaceOrder",
          value: replaceRequest({ target: { $case: "origClientOrderId", value: "no-such-order" } }),
        }),
      counted: { "replace/rejected/UNKNOWN_ORDER": 1 },
    },
    {
      name: "a Session mass cancel",
      run: () =>
        inSession({
          $case: "massCancel",
          value: { account: "", instrument: "", side: Side.UNSPECIFIED, clientOrderId: id("m") },
        }),
      counted: { "mass_cancel/accepted/": 1 },
    },
    {
      name: "a Session new order the command log does not store",
      run: () => logRefusing(() => inSession(newOrder())),
      counted: { "submit/rejected/UNAVAILABLE": 1 },
    },
    {
      name: "a Session batch of three: each request once",
      run: () => inSession(newOrder(), newOrder({ qty: 101 }), undefined),
      counted: {
        "submit/accepted/": 1,
        "submit/rejected/ACCOUNT_MAX_ORDER_QTY": 1,
        "any/invalid/MALFORMED_REQUEST": 1,
      },
    },
    {
      name: "a Session batch over 1,000 requests, refused whole: each request once",
      run: () => inSession(...Array.from({ length: 1_001 }, () => newOrder())),
      counted: { "any/invalid/MALFORMED_REQUEST": 1_001 },
    },
    {
      name: "a Session batch sent before the open, refused whole",
      run: () => session([batch(newOrder(), newOrder())]),
      counted: { "any/invalid/MALFORMED_REQUEST": 2 },
    },
  ];

  it.each(cases)("$name", async ({ setup, run, counted }) => {
    await setup?.();
    const before = await counts();
    await run();
    expect(moved(before, await counts())).toEqual(counted);
  });
});
