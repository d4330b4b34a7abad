import { execFile } from "node:child_process";
import { credentials, Metadata } from "@grpc/grpc-js";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExecType,
  MarketDataClient,
  OrderEntryClient,
  OrderType,
  Side,
  TimeInForce,
  type GetTradesResponse,
  type SubmitOrderRequest,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { buildImages, connectTo, Container, findBinary, NatsServer, unary, CONTAINERS_CONF } from "@tradeplane/testkit";
import type { Placement } from "@tradeplane/operator/service-configs";
import {
  exampleVenue,
  freeServicePorts,
  provisionVenue,
  runService,
  stopService,
  waitReady,
  type Component,
  type ServiceContainer,
} from "../support/container-venue.ts";
import { grpcHealth } from "../support/grpc-health.ts";

/**
 * The images, built from the Dockerfile by scripts/images and run by podman the way a
 * restricted pod runs them: the image's own non-root user, a read-only root filesystem,
 * no capabilities, no privilege gain, /tmp the only writable place. Against a real
 * nats-server on the host, each service becomes ready, answers gRPC health, stops cleanly
 * on SIGTERM within its grace period and writes nothing outside its volumes; then a whole
 * venue of containers trades an order sent from the host and one sent by the CLI's image.
 */

/** The kubelet's default terminationGracePeriodSeconds. */
const GRACE_SECONDS = 30;
/** Exit code of a container that had to be killed: 128 + SIGKILL. */
const KILLED = 137;
const SERVICE_UID = 1000;

const venue = exampleVenue();
let images: Record<string, string> = {};
let server: NatsServer;
let nc: NatsConnection;
let tokens: Record<string, string> = {};
let placement: Placement;

beforeAll(async () => {
  const built = await buildImages(["engine", "risk", "market-data", "journal", "cli"]);
  images = Object.fromEntries(built.map((b) => [b.image.split("/")[2]!.split(":")[0]!, b.image]));
  server = await NatsServer.start();
  nc = await connectTo(server.url);
  tokens = await provisionVenue(nc, venue, ["alice", "bob"]);
  placement = { natsUrl: [server.url], host: "127.0.0.1", ports: await freeServicePorts() };
}, 25 * 60_000);

afterAll(async () => {
  await Container.removeAll();
  await nc?.close();
  await server?.stop();
});

const KERNEL_FULL_CAPS = 0n;

describe("each service image, run as a restricted pod", () => {
  it.each<[string, Component]>([
    ["matching engine", "engine"],
    ["risk gateway", "risk"],
    ["market-data service", "market-data"],
    ["trade journal", "journal"],
  ])(
    "the %s becomes ready, answers gRPC health, stops on SIGTERM within its grace period and writes nothing",
    async (_name, component) => {
      const service = await runService(component, images[component]!, venue, placement);
      await waitReady(service);
      expect(await grpcHealth(service.grpc)).toBe("SERVING");

      // tini is PID 1 and node its child; every process is the image's user with no
      // capabilities and no way to gain any.
      const processes = await service.container.processes();
      expect(processes.map((p) => p.command.split(" ")[0])).toEqual(["/usr/bin/tini", "node"]);
      for (const p of processes) expect(p).toMatchObject({ uid: SERVICE_UID, gid: SERVICE_UID, noNewPrivs: true });
      for (const p of processes) expect(p.capEff).toBe(KERNEL_FULL_CAPS);

      const { state, logs } = await stopService(service, GRACE_SECONDS);
      expect(state.exitCode, logs).not.toBe(KILLED);
      expect(state.exitCode, logs).toBe(0);
      expect(logs).toContain('"msg":"shutting down"');
      expect(await service.container.writes()).toEqual([]);
    },
  );
});

function auth(token: string): Metadata {
  const m = new Metadata();
  m.set("authorization", `Bearer ${token}`);
  return m;
}

function order(overrides: Partial<SubmitOrderRequest>): SubmitOrderRequest {
  return {
    account: "",
    clientOrderId: "c1",
    instrument: "INFY",
    side: Side.BUY,
    orderType: OrderType.LIMIT,
    timeInForce: TimeInForce.DAY,
    price: 150_000,
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

/** Runs the CLI image once (no daemon: it exits with the CLI's exit code). */
function runCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      findBinary("podman"),
      [
        "run",
        "--rm",
        "--network=host",
        "--read-only",
        "--read-only-tmpfs=false",
        "--cap-drop=all",
        "--security-opt=no-new-privileges",
        "--label=io.tradeplane.test=1",
        images.cli!,
        ...args,
      ],
      { env: { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? CONTAINERS_CONF }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 99, stdout, stderr }),
    );
  });
}

describe("a venue of containers", () => {
  const services: ServiceContainer[] = [];

  afterAll(async () => {
    await Promise.all(services.map((s) => s.container.remove().catch(() => undefined)));
  });

  it("trades an order sent from the host, shows it in market data, and takes one from the CLI image", async () => {
    for (const component of ["engine", "risk", "market-data"] as const)
      services.push(await runService(component, images[component]!, venue, placement));
    for (const service of services) await waitReady(service);
    const [, risk, marketData] = services;

    const orderEntry = new OrderEntryClient(risk!.grpc, credentials.createInsecure());
    const submit = (token: string, req: SubmitOrderRequest) =>
      unary<SubmitOrderResponse>((cb) => orderEntry.submitOrder(req, auth(token), cb));
    const sell = await submit(tokens.alice!, order({ clientOrderId: "a-sell", side: Side.SELL, qty: 10 }));
    expect(sell.reports.map((r) => r.execType)).toEqual([ExecType.NEW]);
    const buy = await submit(tokens.bob!, order({ clientOrderId: "b-buy", qty: 4 }));
    expect(buy.reports.map((r) => r.execType)).toEqual([ExecType.NEW, ExecType.TRADE]);
    expect(buy.reports[1]).toMatchObject({ lastPrice: 150_000, lastQty: 4 });
    orderEntry.close();

    // Market data follows the event log on its own: poll until the trade is there.
    const md = new MarketDataClient(marketData!.grpc, credentials.createInsecure());
    let trades: GetTradesResponse = { trades: [] };
    for (let i = 0; i < 100 && trades.trades.length === 0; i++) {
      trades = await unary<GetTradesResponse>((cb) =>
        md.getTrades({ instrument: "INFY", fromTradeId: 0, limit: 10 }, cb),
      );
      if (trades.trades.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    md.close();
    expect(trades.trades).toMatchObject([{ price: 150_000, qty: 4 }]);

    // What the chart's `helm test` hook runs: the CLI's image entering an order.
    const cli = await runCli([
      "--endpoint",
      risk!.grpc,
      "--token",
      tokens.bob!,
      "--json",
      "order",
      "submit",
      "INFY",
      "--account",
      "bob",
      "--side",
      "buy",
      "--qty",
      "2",
      "--price",
      "150000",
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const reports = (JSON.parse(cli.stdout) as SubmitOrderResponse).reports;
    expect(reports.map((r) => r.execType)).toEqual([ExecType.NEW, ExecType.TRADE]);

    for (const service of [...services].reverse()) {
      const { state, logs } = await stopService(service, GRACE_SECONDS);
      expect(state.exitCode, `${service.component}: ${logs}`).toBe(0);
    }
  });
});
