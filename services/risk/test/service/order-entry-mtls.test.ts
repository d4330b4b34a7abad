import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { credentials, Metadata, status, type ChannelCredentials } from "@grpc/grpc-js";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  accountsBucket,
  ExecType,
  OrderEntryClient,
  OrderType,
  Side,
  TimeInForce,
  type ListOpenOrdersResponse,
  type SubmitOrderRequest,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { provision, venueProvisioningPlan, type StartedService } from "@tradeplane/platform";
import { connectTo, NatsServer, testInstrumentSettings, ThrowawayPki, unary } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { AccountRegistry } from "../../src/adapters/accounts.ts";
import { main } from "../../src/main.ts";

const VENUE = "mtls";
const BOB_TOKEN = "bob-token-0123456789abcdef";

function order(clientOrderId: string, overrides: Partial<SubmitOrderRequest> = {}): SubmitOrderRequest {
  return {
    account: "",
    clientOrderId,
    instrument: "INFY",
    side: Side.BUY,
    orderType: OrderType.LIMIT,
    timeInForce: TimeInForce.DAY,
    price: 99_000,
    stopPrice: 0,
    qty: 1,
    postOnly: false,
    stpMode: 0,
    expireTime: undefined,
    displayQty: 0,
    stpGroup: 0,
    ...overrides,
  };
}

/**
 * The gateway with mutual TLS: a verified client certificate's subject CN is the caller's
 * principal, a bearer token still wins when the call carries one, and a certificate from
 * another CA never gets through the handshake.
 */
describe("OrderEntry with mutual TLS: the client certificate names the principal", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let gateway: StartedService;
  let pki: ThrowawayPki;
  let stranger: ThrowawayPki;
  const clients: OrderEntryClient[] = [];

  async function clientFor(pkiOf: ThrowawayPki, cn: string): Promise<OrderEntryClient> {
    const cert = await pkiOf.client(cn);
    const creds: ChannelCredentials = credentials.createSsl(
      await readFile(pki.ca.certFile),
      await readFile(cert.keyFile),
      await readFile(cert.certFile),
    );
    const client = new OrderEntryClient(`localhost:${gateway.grpcPort}`, creds);
    clients.push(client);
    return client;
  }

  const submit = (client: OrderEntryClient, req: SubmitOrderRequest, metadata = new Metadata()) =>
    unary<SubmitOrderResponse>((cb) => client.submitOrder(req, metadata, { deadline: Date.now() + 10_000 }, cb));

  beforeAll(async () => {
    pki = await ThrowawayPki.create();
    stranger = await ThrowawayPki.create("stranger-ca");
    server = await NatsServer.start();
    nc = await connectTo(server.url);
    await provision(nc, venueProvisioningPlan({ venue: VENUE }));
    const kv = await new Kvm(nc).open(accountsBucket(VENUE));
    for (const name of ["alice", "bob"]) {
      await AccountRegistry.putAccount(kv, {
        name,
        disabled: false,
        principals: [name],
        limits: {},
        defaultStpMode: 0,
      });
    }
    await AccountRegistry.putToken(kv, BOB_TOKEN, "bob");
    await new EngineProcess({
      natsUrl: server.url,
      venue: VENUE,
      instanceId: "engine",
      instruments: testInstrumentSettings,
    }).start();
    const serverCert = await pki.server();
    gateway = await main({
      natsUrl: [server.url],
      venue: VENUE,
      instanceId: "gw-mtls",
      instruments: testInstrumentSettings.map((i) => ({
        symbol: i.symbol,
        partition: 0,
        referencePrice: i.referencePrice,
        notionalPerTickLot: 1,
      })),
      defaultLimits: {},
      commandTimeoutMs: 10_000,
      adminToken: "risk-admin-token-0123456789",
      grpcHost: "127.0.0.1",
      grpcPort: 0,
      grpcTls: { ...serverCert, caFile: pki.ca.certFile, requireClientCert: true },
      opsHost: "127.0.0.1",
      opsPort: 0,
      logLevel: "silent",
      tracing: "none",
    });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await gateway?.shutdown.run();
    await EngineProcess.killAll();
    await nc?.close();
    await server?.dispose();
    await pki?.dispose();
    await stranger?.dispose();
  });

  it("enters an order for the account the certificate's CN stands for, without a token", async () => {
    const alice = await clientFor(pki, "alice");
    const res = await submit(alice, order("cert-1"));
    expect(res.reports.map((r) => r.execType)).toEqual([ExecType.NEW]);
    expect(res.reports[0]!.order).toMatchObject({ account: "alice", clientOrderId: "cert-1" });
    const open = await unary<ListOpenOrdersResponse>((cb) =>
      alice.listOpenOrders({ account: "", instrument: "" }, new Metadata(), cb),
    );
    expect(open.orders.map((o) => o.clientOrderId)).toEqual(["cert-1"]);
  });

  it("refuses to act for another account than the certificate's", async () => {
    const alice = await clientFor(pki, "alice");
    await expect(submit(alice, order("cert-2", { account: "bob" }))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });

  it("lets a bearer token decide when the call carries one, and refuses a bad token over a good certificate", async () => {
    const alice = await clientFor(pki, "alice");
    const asBob = new Metadata();
    asBob.set("authorization", `Bearer ${BOB_TOKEN}`);
    const res = await submit(alice, order("tok-1"), asBob);
    expect(res.reports[0]!.order).toMatchObject({ account: "bob" });
    const bad = new Metadata();
    bad.set("authorization", "Bearer not-a-token");
    await expect(submit(alice, order("tok-2"), bad)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("refuses a verified certificate whose CN is no account's principal", async () => {
    const mallory = await clientFor(pki, "mallory");
    await expect(submit(mallory, order("m-1"))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it("never lets a certificate from another CA through the handshake", async () => {
    const forged = await clientFor(stranger, "alice");
    await expect(submit(forged, order("f-1"))).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });
});
