import { resolve } from "node:path";
import { Metadata, credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ListTokensResponse } from "@tradeplane/contracts";
import { OrderEntryClient, RiskAdminClient, type ListOpenOrdersResponse } from "@tradeplane/contracts";
import { provision, venueProvisioningPlan } from "@tradeplane/platform";
import { connectTo, NatsServer, REPO_ROOT, ServiceProcess, testInstrumentSettings, unary } from "@tradeplane/testkit";
import { RiskAdminAccounts } from "../../src/controllers/risk-admin-accounts.ts";

/**
 * The operator's StrategyAccounts port against the real risk gateway (a process on a real
 * nats-server): the account and its limits, a token issued and usable for order entry, the
 * kill switch, positions, and revocation, which the token's next call feels.
 */

const VENUE = "opaccts";
const ADMIN = "operator-risk-officer-token-0123456789";
const OPERATOR = "operator-venue-operator-token-0123456789";
const at = { namespace: "trading", venue: VENUE };
let server: NatsServer;
let gateway: ServiceProcess;
let accounts: RiskAdminAccounts;

beforeAll(async () => {
  server = await NatsServer.start();
  const nc = await connectTo(server.url);
  await provision(nc, venueProvisioningPlan({ venue: VENUE }));
  await nc.close();
  gateway = new ServiceProcess({
    main: resolve(REPO_ROOT, "services/risk/src/main.ts"),
    config: {
      instruments: testInstrumentSettings.map((i) => ({ symbol: i.symbol, referencePrice: i.referencePrice })),
    },
    env: {
      TP_NATS_URL: server.url,
      TP_VENUE: VENUE,
      TP_INSTANCE_ID: "gw",
      TP_LOG_LEVEL: "warn",
      TP_ADMIN_TOKENS_RISK_OFFICER: ADMIN,
      TP_ADMIN_TOKENS_VENUE_OPERATOR: OPERATOR,
    },
  });
  await gateway.start();
  accounts = new RiskAdminAccounts({
    adminToken: (_at, role) => (role === "venue-operator" ? OPERATOR : ADMIN),
    addressOf: () => `127.0.0.1:${gateway.grpcPort}`,
  });
});

afterAll(async () => {
  accounts?.close();
  await ServiceProcess.killAll();
  await server?.dispose();
});

const bearer = (token: string) => {
  const m = new Metadata();
  m.set("authorization", `Bearer ${token}`);
  return m;
};

describe("the operator's strategy accounts against the real gateway", () => {
  it("creates the account with its limits, issues a working token, and revokes it", async () => {
    await accounts.ensureAccount(at, "strat-mm", {
      maxOrderQty: 10,
      maxOrderNotional: 1_000_000,
      maxPosition: 50,
      creditLimit: 10_000_000,
      maxOrdersPerSecond: 20,
    });
    // Idempotent: a second reconcile changes nothing and does not fail.
    await accounts.ensureAccount(at, "strat-mm", {
      maxOrderQty: 10,
      maxOrderNotional: 1_000_000,
      maxPosition: 50,
      creditLimit: 10_000_000,
      maxOrdersPerSecond: 20,
    });
    const issued = await accounts.issueToken(at, "strat-mm", "strategy trading/mm");
    expect(issued.token.length).toBeGreaterThan(20);

    const address = `127.0.0.1:${gateway.grpcPort}`;
    const orderEntry = new OrderEntryClient(address, credentials.createInsecure());
    const admin = new RiskAdminClient(address, credentials.createInsecure());
    try {
      const open = await unary<ListOpenOrdersResponse>((cb) =>
        orderEntry.listOpenOrders({ account: "strat-mm", instrument: "" }, bearer(issued.token), cb),
      );
      expect(open.orders).toEqual([]);
      const listed = await unary<ListTokensResponse>((cb) =>
        admin.listTokens({ account: "strat-mm" }, bearer(ADMIN), cb),
      );
      expect(listed.tokens.map((t) => t.tokenId)).toContain(issued.id);

      await accounts.setKillSwitch(at, "strat-mm", true, "paused");
      await accounts.setKillSwitch(at, "strat-mm", false, "resumed");
      expect(await accounts.positions(at, "strat-mm")).toEqual([]);

      await accounts.revokeToken(at, "strat-mm", issued.id);
      // A retried delete revokes nothing more and does not fail.
      await accounts.revokeToken(at, "strat-mm", issued.id);
      await expect(
        unary<ListOpenOrdersResponse>((cb) =>
          orderEntry.listOpenOrders({ account: "strat-mm", instrument: "" }, bearer(issued.token), cb),
        ),
      ).rejects.toMatchObject({ code: 16 });
    } finally {
      orderEntry.close();
      admin.close();
    }
  });

  it("closes the venue's channel on release, and a later call opens a new one", async () => {
    await accounts.tokens(at, "strat-mm");
    expect(accounts.openChannels).toBe(1);
    accounts.release(at);
    expect(accounts.openChannels).toBe(0);
    // Released twice (a retried finalizer): nothing to close, no failure.
    accounts.release(at);
    await expect(accounts.tokens(at, "strat-mm")).resolves.toBeInstanceOf(Array);
    expect(accounts.openChannels).toBe(1);
  });
});
