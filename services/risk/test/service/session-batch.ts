import type { Metadata } from "@grpc/grpc-js";
import type { OrderEntryClient, OrderRequest, RequestAck, SessionResponse } from "@tradeplane/contracts";
import { retry } from "@tradeplane/testkit";

/** A Session that has sent its open and one batch; what it has received so far is in `received`. */
export interface BatchSession {
  readonly session: ReturnType<OrderEntryClient["session"]>;
  readonly received: SessionResponse[];
}

/** Opens a Session as `auth`'s account (no cancel on disconnect, no heartbeat) and sends `requests` as its first batch. */
export function sessionWithBatch(orderEntry: OrderEntryClient, auth: Metadata, requests: OrderRequest[]): BatchSession {
  const session = orderEntry.session(auth);
  const received: SessionResponse[] = [];
  session.on("data", (m: SessionResponse) => received.push(m));
  session.on("error", () => undefined);
  session.write({
    sequence: 1,
    message: {
      $case: "open",
      value: { account: "", cancelOnDisconnect: false, heartbeatIntervalMs: 0, acksOnly: false },
    },
  });
  session.write({ sequence: 2, message: { $case: "batch", value: { requests } } });
  return { session, received };
}

/** The acks of the batch, once the gateway has sent them. */
export function batchAcks({ received }: BatchSession): Promise<RequestAck[]> {
  return retry(
    async () => {
      const m = received.find((r) => r.message?.$case === "acks");
      return m?.message?.$case === "acks" ? m.message.value.acks : Promise.reject(new Error("no acks yet"));
    },
    10_000,
    20,
  );
}
