import {
  ExecType,
  RejectReason,
  type ExecutionReport,
  type OrderRequest,
  type RequestAck,
} from "@tradeplane/contracts";

/** The `kind` label of an order request; `any` for a malformed one, whose kind is not read. */
export type RequestKindLabel = "submit" | "cancel" | "replace" | "mass_cancel" | "any";

/**
 * How one order request ended, as tp_risk_orders_total counts it: `accepted` once its command
 * is in the log (a unary call the engine then refuses is `rejected` with the engine's reason),
 * `rejected` with the reason the client is given, `invalid` when it is malformed.
 */
export type RequestOutcome =
  | { readonly outcome: "accepted" }
  | { readonly outcome: "rejected"; readonly reason: RejectReason }
  | { readonly outcome: "invalid" };

export const ACCEPTED: RequestOutcome = { outcome: "accepted" };
export const INVALID: RequestOutcome = { outcome: "invalid" };
export const rejectedFor = (reason: RejectReason): RequestOutcome => ({ outcome: "rejected", reason });

/** A unary call's answer by its reports: the first one's reject, else accepted (an empty answer too). */
export function outcomeOfReports(reports: readonly (ExecutionReport | undefined)[]): RequestOutcome {
  const first = reports[0];
  return first?.execType === ExecType.REJECTED ? rejectedFor(first.rejectReason) : ACCEPTED;
}

const KIND_OF_CASE: Readonly<Record<NonNullable<OrderRequest["request"]>["$case"], RequestKindLabel>> = {
  submitOrder: "submit",
  cancelOrder: "cancel",
  replaceOrder: "replace",
  massCancel: "mass_cancel",
};

/** The `kind` label of a Session request: `any` when it carries no request. */
export function kindOfSessionRequest(request: OrderRequest): RequestKindLabel {
  return request.request === undefined ? "any" : KIND_OF_CASE[request.request.$case];
}

/** Where no ack tells (a fault before any): refused as if the log were unavailable, which the client retries. */
export const UNAVAILABLE = rejectedFor(RejectReason.UNAVAILABLE);

/**
 * A Session request by its ack: accepted once stored, else rejected with the ack's reason; a
 * request that carries nothing is invalid (its ack says MALFORMED_REQUEST); one without an ack
 * is unavailable.
 */
export function outcomeOfAck(request: OrderRequest, ack: RequestAck | undefined): RequestOutcome {
  if (ack === undefined) return UNAVAILABLE;
  if (ack.accepted) return ACCEPTED;
  return request.request === undefined ? INVALID : rejectedFor(ack.rejectReason);
}
