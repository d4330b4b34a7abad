import { credentials, Metadata } from "@grpc/grpc-js";
import {
  OrderEntryClient,
  OrderType,
  SubmitOrderRequest,
  TimeInForce,
  type GetAccountPositionsResponse,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { unary } from "./grpc-call.ts";

/** Call metadata that authenticates with `token` as a bearer token. */
export function bearer(token: string): Metadata {
  const m = new Metadata();
  m.set("authorization", `Bearer ${token}`);
  return m;
}

/** What a test says of a limit order; the rest is the gateway's default (INFY, DAY, no stop, no iceberg). */
export type LimitOrder = Pick<SubmitOrderRequest, "account" | "clientOrderId" | "side" | "price" | "qty"> &
  Partial<SubmitOrderRequest>;

/** A whole SubmitOrderRequest for a limit order: INFY and DAY unless the order says otherwise. */
export function limitOrder(order: LimitOrder): SubmitOrderRequest {
  return SubmitOrderRequest.fromPartial({
    instrument: "INFY",
    orderType: OrderType.LIMIT,
    timeInForce: TimeInForce.DAY,
    ...order,
  });
}

type Callback<T> = (err: Error | null, res: T) => void;

/**
 * One venue's order entry as its accounts call it: a client per call, closed after it. Tests
 * send a few calls between other steps, some of which restart the gateway; a fresh channel
 * does not carry a reconnect backoff from one step into the next.
 */
export class OrderEntryCalls {
  private readonly endpoint: string;
  private readonly tokenOf: (account: string) => string;

  constructor(endpoint: string, tokenOf: (account: string) => string) {
    this.endpoint = endpoint;
    this.tokenOf = tokenOf;
  }

  /** One unary call as `account`. */
  async as<T>(
    account: string,
    invoke: (client: OrderEntryClient, auth: Metadata, cb: Callback<T>) => unknown,
  ): Promise<T> {
    const client = new OrderEntryClient(this.endpoint, credentials.createInsecure());
    try {
      return await unary<T>((cb) => invoke(client, bearer(this.tokenOf(account)), cb));
    } finally {
      client.close();
    }
  }

  /** Submits a limit order as its account (see limitOrder for the defaults). */
  submitLimit(order: LimitOrder): Promise<SubmitOrderResponse> {
    return this.as<SubmitOrderResponse>(order.account, (c, auth, cb) => c.submitOrder(limitOrder(order), auth, cb));
  }

  /** The gateway's positions of `account` ("" = every instrument). */
  positions(account: string, instrument = ""): Promise<GetAccountPositionsResponse> {
    return this.as<GetAccountPositionsResponse>(account, (c, auth, cb) =>
      c.getAccountPositions({ account, instrument }, auth, cb),
    );
  }
}
