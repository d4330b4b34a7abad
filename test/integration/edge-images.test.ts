import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata } from "@grpc/grpc-js";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accountsBucket,
  MarketDataClient,
  OrderEntryClient,
  type GetSnapshotResponse,
  type ListOpenOrdersResponse,
} from "@tradeplane/contracts";
import { putAccount, putToken } from "@tradeplane/accounts";
import { FixClient } from "@tradeplane/fix-gateway/test-support/fix-client";
import {
  buildImages,
  connectTo,
  Container,
  freePort,
  NatsServer,
  podman,
  REPO_ROOT,
  retry,
  unary,
} from "@tradeplane/testkit";
import type { Placement } from "@tradeplane/operator/service-configs";
import {
  exampleVenue,
  freeServicePorts,
  provisionVenue,
  runService,
  stopService,
  waitReady,
  type OpsContainer,
  type ServiceContainer,
} from "../support/container-venue.ts";
import { runFixGateway, runStrategyRuntime } from "../support/edge-containers.ts";

/**
 * The venue's edge from its images: the FIX gateway and the strategy runtime, run by podman
 * as restricted pods (the image's non-root user, read-only root filesystem, no capabilities,
 * no privilege gain, /tmp the only writable place) in front of a venue of containers
 * (engine, risk gateway, market data) on a real nats-server. Their secrets are mounted
 * files only. The FIX gateway takes a Logon and a NewOrderSingle over TCP from the host;
 * the strategy runtime quotes from its mounted StrategyDeployment; both stop cleanly on
 * SIGTERM within their grace period (the runtime cancelling its quotes) and write nothing.
 */

/** The kubelet's default terminationGracePeriodSeconds. */
const GRACE_SECONDS = 30;
const IMAGE_UID = 1000;
const NO_CAPABILITIES = 0n;

/** The market maker's account, created with the limits its StrategyDeployment names. */
const MM_ACCOUNT = "mm-1";
const MM_TOKEN = "token-of-mm-1-0123456789abcdef";

const venue = exampleVenue();
let images: Record<string, string> = {};
let server: NatsServer;
let nc: NatsConnection;
let tokens: Record<string, string> = {};
let placement: Placement;
const services: ServiceContainer[] = [];
let endpoints: { orderEntry: string; marketData: string };

beforeAll(async () => {
  const built = await buildImages(["engine", "risk", "market-data", "fix-gateway", "strategy-runtime"]);
  images = Object.fromEntries(built.map((b) => [b.image.split("/")[2]!.split(":")[0]!, b.image]));
  server = await NatsServer.start();
  nc = await connectTo(server.url);
  tokens = await provisionVenue(nc, venue, ["alice"]);
  const kv = await new Kvm(nc).open(accountsBucket(venue.metadata.name));
  await putAccount(kv, {
    name: MM_ACCOUNT,
    disabled: false,
    principals: [MM_ACCOUNT],
    limits: { maxPosition: 5000, maxOrdersPerSecond: 50 },
    defaultStpMode: 0,
  });
  await putToken(kv, MM_TOKEN, MM_ACCOUNT);
  placement = { natsUrl: [server.url], host: "127.0.0.1", ports: await freeServicePorts() };
  for (const component of ["engine", "risk", "market-data"] as const)
    services.push(await runService(component, images[component]!, venue, placement));
  for (const service of services) await waitReady(service);
  endpoints = { orderEntry: services[1]!.grpc, marketData: services[2]!.grpc };
}, 25 * 60_000);

afterAll(async () => {
  await Container.removeAll();
  await nc?.close();
  await server?.stop();
});

function auth(token: string): Metadata {
  const m = new Metadata();
  m.set("authorization", `Bearer ${token}`);
  return m;
}

async function openOrders(account: string, token: string): Promise<ListOpenOrdersResponse> {
  const client = new OrderEntryClient(endpoints.orderEntry, credentials.createInsecure());
  try {
    return await unary<ListOpenOrdersResponse>((cb) =>
      client.listOpenOrders({ account, instrument: "" }, auth(token), cb),
    );
  } finally {
    client.close();
  }
}

async function snapshot(instrument: string): Promise<GetSnapshotResponse> {
  const client = new MarketDataClient(endpoints.marketData, credentials.createInsecure());
  try {
    return await unary<GetSnapshotResponse>((cb) =>
      client.getSnapshot({ instrument, depth: 10, includeOrders: false }, cb),
    );
  } finally {
    client.close();
  }
}

/** tini is PID 1 and node its child, each the image's user with no capabilities and no way to gain any. */
async function expectRestricted(service: OpsContainer): Promise<void> {
  const processes = await service.container.processes();
  expect(processes.map((p) => p.command.split(" ")[0])).toEqual(["/usr/bin/tini", "node"]);
  for (const p of processes) expect(p).toMatchObject({ uid: IMAGE_UID, gid: IMAGE_UID, noNewPrivs: true });
  for (const p of processes) expect(p.capEff).toBe(NO_CAPABILITIES);
}

/** Secrets are mounted files: neither the container's environment nor its command line holds one. */
async function expectNoSecretOutsideFiles(service: OpsContainer, secrets: readonly string[]): Promise<void> {
  const { pid } = await service.container.state();
  const seen = (await service.container.processes())
    .map((p) => p.command)
    .concat(readFileSync(`/proc/${pid}/environ`, "latin1"));
  for (const secret of secrets) for (const text of seen) expect(text).not.toContain(secret);
}

describe("the FIX gateway's image, run as a restricted pod in front of a venue of containers", () => {
  it("becomes ready, takes a Logon and a NewOrderSingle over TCP, logs out on SIGTERM and writes nothing", async () => {
    const session = {
      id: "broker-a",
      compId: "BROKER_A",
      account: "alice",
      token: tokens.alice!,
      password: "logon-secret-of-broker-a",
    };
    const gateway = await runFixGateway(images["fix-gateway"]!, venue, placement, endpoints, [session]);
    await waitReady(gateway);
    await expectRestricted(gateway);
    await expectNoSecretOutsideFiles(gateway, [session.token, session.password]);

    const client = await FixClient.connect(gateway.fixPort);
    const send = (msgType: string, body: string) =>
      client.send(msgType, body, { sender: session.compId, target: gateway.senderCompId });
    send("A", `98=0|108=30|141=Y|554=${session.password}`);
    expect(await client.waitFor((f) => f[35] === "A")).toMatchObject({ 49: "TRADEPLANE", 56: "BROKER_A" });
    send("D", "11=fix-buy-1|55=TCS|54=1|38=3|40=2|44=3200.00|59=0|60=20260301-12:00:00");
    expect(await client.waitFor((f) => f[35] === "8" && f[11] === "fix-buy-1")).toMatchObject({
      150: "0",
      39: "0",
      55: "TCS",
      54: "1",
      38: "3",
      44: "3200.00",
      151: "3",
    });
    // The order is the account's, as OrderEntry sees it.
    expect((await openOrders("alice", tokens.alice!)).orders).toMatchObject([
      { clientOrderId: "fix-buy-1", instrument: "TCS", price: 320_000, qty: 3 },
    ]);

    const from = client.received.length;
    const { state, logs } = await stopService(gateway, GRACE_SECONDS);
    expect(state.exitCode, logs).toBe(0);
    expect(logs).toContain('"msg":"shutting down"');
    // Sessions log out before the gateway lets go of its upstreams.
    expect(client.received.slice(from).map((f) => f[35])).toContain("5");
    client.close();
    expect(await gateway.container.writes()).toEqual([]);
  });
});

describe("the strategy runtime's image, run as a restricted pod in front of a venue of containers", () => {
  it("quotes from its mounted StrategyDeployment, cancels its quotes on SIGTERM and writes nothing", async () => {
    const deployment = `apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: mm-infy }
spec:
  venueRef: { name: ${venue.metadata.name} }
  account: ${MM_ACCOUNT}
  strategy:
    builtin: market-maker
    parameters: { spreadTicks: 4, quoteQty: 5, referencePrice: 150000, staleMs: 0 }
  instruments: [INFY]
  limits: { maxPosition: 5000, maxOrdersPerSecond: 50 }
`;
    const runtime = await runStrategyRuntime(
      images["strategy-runtime"]!,
      deployment,
      MM_TOKEN,
      endpoints,
      await freePort(),
    );
    await waitReady(runtime);
    await expectRestricted(runtime);
    await expectNoSecretOutsideFiles(runtime, [MM_TOKEN]);
    // Only what the runtime's own dependencies reach (Dockerfile: prune-workspace-deps.mjs):
    // not the operator's Kubernetes client, which its test-only dependency used to pull in.
    const root = `/proc/${(await runtime.container.state()).pid}/root/app/node_modules`;
    expect(existsSync(`${root}/@tradeplane/strategy-api`)).toBe(true);
    for (const absent of ["@kubernetes/client-node", "kubernetes-models", "@tradeplane/operator"])
      expect(existsSync(`${root}/${absent}`), absent).toBe(false);

    // A bid and an offer, seen by OrderEntry and in market data's book.
    const quotes = await retry(async () => {
      const { orders } = await openOrders(MM_ACCOUNT, MM_TOKEN);
      expect(orders).toHaveLength(2);
      return orders;
    });
    expect(quotes.map((o) => o.instrument)).toEqual(["INFY", "INFY"]);
    expect(quotes.every((o) => o.clientOrderId.startsWith("mminfy-"))).toBe(true);
    await retry(async () => {
      const { book } = await snapshot("INFY");
      expect(book?.bids.length).toBe(1);
      expect(book?.asks.length).toBe(1);
    });

    const { state, logs } = await stopService(runtime, GRACE_SECONDS);
    expect(state.exitCode, logs).toBe(0);
    expect(logs).toContain("strategy stopped; open orders cancelled");
    expect((await openOrders(MM_ACCOUNT, MM_TOKEN)).orders).toEqual([]);
    await retry(async () => {
      const { book } = await snapshot("INFY");
      expect(book?.bids ?? []).toEqual([]);
      expect(book?.asks ?? []).toEqual([]);
    });
    expect(await runtime.container.writes()).toEqual([]);
  });

  it("runs a user's strategy image built FROM the runtime image with examples/strategies/Dockerfile", async () => {
    // The example Dockerfile as a user builds it, with a module that quotes where its
    // parameters say (the learning path's modules join others' quotes: none here).
    const context = mkdtempSync(join(tmpdir(), "tp-user-strategy-"));
    copyFileSync(join(REPO_ROOT, "examples/strategies/Dockerfile"), join(context, "Dockerfile"));
    copyFileSync(
      join(REPO_ROOT, "services/strategy-runtime/test/fixtures/fixed-quotes.ts"),
      join(context, "quotes.ts"),
    );
    const tag = `localhost/tradeplane-test/user-strategy:${process.pid}`;
    await podman(
      [
        "build",
        "--pull=never",
        "--quiet",
        "--build-arg",
        `RUNTIME_IMAGE=${images["strategy-runtime"]!}`,
        "--build-arg",
        "MODULE=quotes.ts",
        "-t",
        tag,
        context,
      ],
      10 * 60_000,
    );
    const deployment = `apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: acme-quotes }
spec:
  venueRef: { name: ${venue.metadata.name} }
  account: ${MM_ACCOUNT}
  strategy:
    image: ${tag}
    parameters: { price: 150000, qty: 2 }
  instruments: [INFY]
  limits: { maxPosition: 5000, maxOrdersPerSecond: 50 }
`;
    const runtime = await runStrategyRuntime(tag, deployment, MM_TOKEN, endpoints, await freePort());
    try {
      await waitReady(runtime);
      await expectRestricted(runtime);
      const quotes = await retry(async () => {
        const { orders } = await openOrders(MM_ACCOUNT, MM_TOKEN);
        expect(orders).toHaveLength(2);
        return orders;
      });
      expect(quotes.map((o) => [o.price, o.leavesQty]).sort((a, b) => a[0]! - b[0]!)).toEqual([
        [149_990, 2],
        [150_010, 2],
      ]);
      const { state, logs } = await stopService(runtime, GRACE_SECONDS);
      expect(state.exitCode, logs).toBe(0);
      expect((await openOrders(MM_ACCOUNT, MM_TOKEN)).orders).toEqual([]);
      expect(await runtime.container.writes()).toEqual([]);
    } finally {
      await podman(["rmi", "--force", tag]).catch(() => undefined);
      rmSync(context, { recursive: true, force: true });
    }
  });
});
