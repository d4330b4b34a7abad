/**
 * ADR 0003: a kill switch is written twice, its record in the accounts bucket, then the
 * engine's block (with the switch's mass cancel). A gateway that dies between the two
 * leaves them apart; the next gateway to start (or any replica that sees the record change)
 * writes what is missing. Simulated on a real engine and nats-server by writing only the
 * record while the gateway is down, as the dead gateway did.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CancelReason, ExecType, KillSwitchScope, type EngageKillSwitchResponse } from "@tradeplane/contracts";
import { setKillSwitch } from "@tradeplane/accounts";
import { retry, unary } from "@tradeplane/testkit";
import { ADMIN_TOKEN, auth, order, sample, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";
import { eventLog } from "../integration/owner-support.ts";

const VENUE = "ksconv";

describe("kill switch records and engine blocks converge after a crash between the two writes", () => {
  let venue: Venue;

  beforeAll(async () => {
    venue = await startVenue({
      venue: VENUE,
      accounts: [{ name: "alice" }, { name: "bob" }, { name: "carol" }],
      commandTimeoutMs: 1_000,
    });
  }, 60_000);

  afterAll(async () => {
    await venue?.close();
  });

  const blockEvents = async (account: string) =>
    (await eventLog(venue.nc, VENUE)).flatMap(({ event }) =>
      event.body?.$case === "accountBlockChanged" && event.body.value.account === account ? [event.body.value] : [],
    );

  it("a switch recorded in KV and never blocked in the engine: the restarted gateway writes the block and the switch's mass cancel", async () => {
    const resting = await venue.submit(tokenOf("alice"), order({ clientOrderId: "rest-1", price: 99_000 }));
    expect(resting.reports[0]!.execType).toBe(ExecType.NEW);
    expect(await blockEvents("alice")).toEqual([]);
    // The gateway that engaged it died after the record: only the record is written.
    await venue.restartGateway(() =>
      setKillSwitch(venue.kv, "account.alice", {
        reason: "crash drill",
        changedBy: "ops",
        changeTimeMs: Date.now(),
      }).then(() => undefined),
    );
    const events = await retry(
      async () => {
        const blocks = await blockEvents("alice");
        if (blocks.length === 0) throw new Error("no block yet");
        return eventLog(venue.nc, VENUE);
      },
      30_000,
      100,
    );
    expect(await blockEvents("alice")).toEqual([
      { account: "alice", allAccounts: false, blocked: true, reason: "crash drill" },
    ]);
    // The switch's mass cancel followed the block: alice's resting order is gone, as a kill switch's.
    const cancelled = events.flatMap(({ event }) =>
      event.body?.$case === "cancelled" && event.body.value.account === "alice" ? [event.body.value] : [],
    );
    expect(cancelled.map((c) => [c.clientOrderId, c.reason])).toEqual([["rest-1", CancelReason.KILL_SWITCH]]);
    // bob's orders were not touched.
    expect(await blockEvents("bob")).toEqual([]);
  });

  it("a block whose switch was released in KV only (a crash after the delete): the restarted gateway lifts it, and the account trades again", async () => {
    await venue.restartGateway(() => setKillSwitch(venue.kv, "account.alice", undefined).then(() => undefined));
    await retry(
      async () => {
        const blocks = await blockEvents("alice");
        if (blocks.at(-1)?.blocked !== false) throw new Error("not lifted yet");
      },
      30_000,
      100,
    );
    expect((await blockEvents("alice")).map((b) => b.blocked)).toEqual([true, false]);
    const again = await venue.submit(tokenOf("alice"), order({ clientOrderId: "after-1", price: 99_000 }));
    expect(again.reports[0]!.execType).toBe(ExecType.NEW);
  });

  it("a running gateway that sees a record appear without its block (another replica died between the writes) writes the block once", async () => {
    await setKillSwitch(venue.kv, "account.bob", { reason: "drill", changedBy: "ops", changeTimeMs: Date.now() });
    await retry(
      async () => {
        if ((await blockEvents("bob")).length === 0) throw new Error("no block yet");
      },
      30_000,
      100,
    );
    // Two graces more: the difference is gone, nothing is written again.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await blockEvents("bob")).toEqual([{ account: "bob", allAccounts: false, blocked: true, reason: "drill" }]);
    const metrics = await (await fetch(`http://127.0.0.1:${venue.gateway.opsPort}/metrics`)).text();
    expect(sample(metrics, "tp_risk_kill_switch_repairs_total", { direction: "block" })).toBe(1);
  });

  it("a switch engaged through RiskAdmin (record, then block) is not repaired: one block per partition", async () => {
    const res = await unary<EngageKillSwitchResponse>((cb) =>
      venue.admin.engageKillSwitch(
        { scope: KillSwitchScope.ACCOUNT, account: "carol", reason: "normal", keepOpenOrders: false },
        auth(ADMIN_TOKEN),
        cb,
      ),
    );
    expect(res.killSwitch?.account).toBe("carol");
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await blockEvents("carol")).toEqual([
      { account: "carol", allAccounts: false, blocked: true, reason: "normal" },
    ]);
  });
});
