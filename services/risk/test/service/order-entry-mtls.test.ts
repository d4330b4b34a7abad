import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { credentials, Metadata, status } from "@grpc/grpc-js";
import {
  ExecType,
  OrderEntryClient,
  type ListOpenOrdersResponse,
  type SubmitOrderRequest,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { ThrowawayPki, unary } from "@tradeplane/testkit";
import { auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

/**
 * The gateway with mutual TLS: a verified client certificate's subject CN is the caller's
 * principal, a bearer token still wins when the call carries one, and a certificate from
 * another CA never gets through the handshake.
 */
describe("OrderEntry with mutual TLS: the client certificate names the principal", () => {
  let venue: Venue;
  let pki: ThrowawayPki;
  let stranger: ThrowawayPki;
  const clients: OrderEntryClient[] = [];

  async function clientFor(issuer: ThrowawayPki, cn: string): Promise<OrderEntryClient> {
    const cert = await issuer.client(cn);
    const creds = credentials.createSsl(
      await readFile(pki.ca.certFile),
      await readFile(cert.keyFile),
      await readFile(cert.certFile),
    );
    const client = new OrderEntryClient(`localhost:${venue.gateway.grpcPort}`, creds);
    clients.push(client);
    return client;
  }

  const submit = (client: OrderEntryClient, req: SubmitOrderRequest, metadata = new Metadata()) =>
    unary<SubmitOrderResponse>((cb) => client.submitOrder(req, metadata, { deadline: Date.now() + 10_000 }, cb));

  beforeAll(async () => {
    pki = await ThrowawayPki.create();
    stranger = await ThrowawayPki.create("stranger-ca");
    venue = await startVenue({
      venue: "mtls",
      accounts: [{ name: "alice" }, { name: "bob" }],
      grpcTls: { ...(await pki.server()), caFile: pki.ca.certFile, requireClientCert: true },
    });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await venue?.close();
    await pki?.dispose();
    await stranger?.dispose();
  });

  it("enters an order for the account the certificate's CN stands for, without a token", async () => {
    const alice = await clientFor(pki, "alice");
    const res = await submit(alice, order({ clientOrderId: "cert-1", price: 99_000 }));
    expect(res.reports.map((r) => r.execType)).toEqual([ExecType.NEW]);
    expect(res.reports[0]!.order).toMatchObject({ account: "alice", clientOrderId: "cert-1" });
    const open = await unary<ListOpenOrdersResponse>((cb) =>
      alice.listOpenOrders({ account: "", instrument: "" }, new Metadata(), cb),
    );
    expect(open.orders.map((o) => o.clientOrderId)).toEqual(["cert-1"]);
  });

  it("refuses to act for another account than the certificate's", async () => {
    const alice = await clientFor(pki, "alice");
    await expect(submit(alice, order({ clientOrderId: "cert-2", account: "bob" }))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });

  it("lets a bearer token decide when the call carries one, and refuses a bad token over a good certificate", async () => {
    const alice = await clientFor(pki, "alice");
    const res = await submit(alice, order({ clientOrderId: "tok-1", price: 99_000 }), auth(tokenOf("bob")));
    expect(res.reports[0]!.order).toMatchObject({ account: "bob" });
    await expect(submit(alice, order({ clientOrderId: "tok-2" }), auth("not-a-token"))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
  });

  it("refuses a verified certificate whose CN is no account's principal", async () => {
    const mallory = await clientFor(pki, "mallory");
    await expect(submit(mallory, order({ clientOrderId: "m-1" }))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });

  it("never lets a certificate from another CA through the handshake", async () => {
    const forged = await clientFor(stranger, "alice");
    await expect(submit(forged, order({ clientOrderId: "f-1" }))).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });
});
