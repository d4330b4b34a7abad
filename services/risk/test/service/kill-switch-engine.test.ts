/**
 * ADR 0003: a kill switch is enforced by the engine, not only by the gateway replica that
 * engaged it. After RiskAdmin engages a switch, an order written by another gateway replica
 * that has not seen the stored switch (simulated by appending a NewOrder straight to the
 * command log after the switch's entry) is refused by the real engine.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CancelReason,
  CommandBatch,
  commandStreamName,
  entrySeqOf,
  EngineEventBatch,
  eventStreamName,
  KillSwitchScope,
  RejectReason,
  Side,
  type EngageKillSwitchResponse,
  type ListOpenOrdersResponse,
  type EngineEvent,
} from "@tradeplane/contracts";
import { commandLogWriter, timestampOfMs, type CommandLogWriter } from "@tradeplane/platform";
import { newLimitOrder, retry, unary } from "@tradeplane/testkit";
import { ADMIN_TOKEN, auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

const VENUE = "kseng";

describe("kill switches in the engine, against a gateway replica that has not seen them", () => {
  let venue: Venue;
  /** The other replica: writes to the command log with no kill switch in its memory. */
  let stale: CommandLogWriter;

  beforeAll(async () => {
    venue = await startVenue({ venue: VENUE, accounts: [{ name: "alice" }, { name: "bob" }] });
    stale = commandLogWriter(venue.nc, VENUE);
  }, 60_000);

  afterAll(async () => {
    stale?.close();
    await venue?.close();
  });

  /** The engine's events of the command at `commandSeq`, once published. */
  async function eventsOf(commandSeq: number): Promise<EngineEvent[]> {
    return retry(
      async () => {
        const info = await (await jetstreamManager(venue.nc)).streams.info(eventStreamName(VENUE));
        const consumer = await jetstream(venue.nc).consumers.get(eventStreamName(VENUE), {
          deliver_policy: DeliverPolicy.All,
        });
        const messages = await consumer.consume({ max_messages: 1_024 });
        const found: EngineEvent[] = [];
        for await (const m of messages) {
          found.push(...EngineEventBatch.decode(m.data).events.filter((e) => e.commandSeq === commandSeq));
          if (m.seq >= info.state.last_seq) break;
        }
        await messages.close();
        if (!found.some((e) => e.lastInCommand)) throw new Error(`no events of command ${commandSeq} yet`);
        return found;
      },
      15_000,
      50,
    );
  }

  /** A new order as a replica that owns no fence and knows no switch writes it (owner epoch 0). */
  async function staleOrder(account: string, clientOrderId: string): Promise<EngineEvent[]> {
    const { seq } = await stale.append(0, {
      timestamp: timestampOfMs(Date.now()),
      account,
      source: "gw-stale",
      ownerEpoch: 0,
      body: newLimitOrder({ clientOrderId, side: Side.BUY, price: 99_000, qty: 1 }),
    });
    return eventsOf(seq);
  }

  const engage = (scope: KillSwitchScope, account: string, keepOpenOrders = false) =>
    unary<EngageKillSwitchResponse>((cb) =>
      venue.admin.engageKillSwitch({ scope, account, reason: "runaway algo", keepOpenOrders }, auth(ADMIN_TOKEN), cb),
    );
  const release = (scope: KillSwitchScope, account: string) =>
    unary((cb) => venue.admin.releaseKillSwitch({ scope, account, reason: "fixed" }, auth(ADMIN_TOKEN), cb));

  const outcome = (events: EngineEvent[]) =>
    events[0]?.body?.$case === "rejected" ? events[0].body.value.reason : events[0]?.body?.$case;

  it("an account's switch: block then mass cancel in one entry; a stale replica's order after it is refused; released, it is accepted", async () => {
    const resting = await venue.submit(tokenOf("alice"), order({ clientOrderId: "rest-1", price: 98_000 }));
    expect(resting.reports[0]?.order?.orderId).toBeGreaterThan(0);
    const engaged = await engage(KillSwitchScope.ACCOUNT, "alice");
    expect(engaged.commands).toHaveLength(1);
    const cancelSeq = engaged.commands[0]!.commandSeq;

    // The switch's entry: the block, then the mass cancel, nothing of alice between them.
    const stored = await (
      await jetstreamManager(venue.nc)
    ).streams.getMessage(commandStreamName(VENUE), { seq: entrySeqOf(cancelSeq) });
    const commands = CommandBatch.decode(stored!.data).commands;
    const block = commands.findIndex((c) => c.body?.$case === "blockAccount");
    expect(commands[block]).toMatchObject({
      account: "alice",
      body: { value: { blocked: true, allAccounts: false, reason: "runaway algo" } },
    });
    expect(commands[block + 1]).toMatchObject({
      account: "alice",
      body: { $case: "massCancel", value: { reason: CancelReason.KILL_SWITCH } },
    });
    const cancelled = await eventsOf(cancelSeq);
    expect(cancelled.map((e) => e.body?.$case)).toContain("cancelled");

    expect(outcome(await staleOrder("alice", "stale-1"))).toBe(RejectReason.KILL_SWITCH);
    // Another account is not blocked.
    expect(outcome(await staleOrder("bob", "stale-bob-1"))).toBe("accepted");

    await release(KillSwitchScope.ACCOUNT, "alice");
    expect(outcome(await staleOrder("alice", "stale-2"))).toBe("accepted");
  }, 60_000);

  it("the venue's switch: every account's order from a stale replica is refused until it is released", async () => {
    const engaged = await engage(KillSwitchScope.VENUE, "");
    expect(engaged.commands).toHaveLength(1);
    for (const account of ["alice", "bob"])
      expect(outcome(await staleOrder(account, `venue-${account}`))).toBe(RejectReason.KILL_SWITCH);
    // The gateway's own pre-check (the stored record) still refuses on this replica too.
    await expect(venue.submit(tokenOf("bob"), order({ clientOrderId: "gw-1", price: 99_000 }))).resolves.toMatchObject({
      reports: [{ rejectReason: RejectReason.KILL_SWITCH }],
    });
    await release(KillSwitchScope.VENUE, "");
    expect(outcome(await staleOrder("bob", "venue-bob-after"))).toBe("accepted");
  }, 60_000);

  it("a switch that keeps open orders: the block alone; the resting order stays, a stale replica's new order is refused", async () => {
    const resting = await venue.submit(tokenOf("bob"), order({ clientOrderId: "keep-1", price: 97_000 }));
    const orderId = resting.reports[0]!.order!.orderId;
    const engaged = await engage(KillSwitchScope.ACCOUNT, "bob", true);
    expect(engaged.commands).toEqual([]);
    expect(outcome(await staleOrder("bob", "keep-stale"))).toBe(RejectReason.KILL_SWITCH);
    const open = await unary<ListOpenOrdersResponse>((cb) =>
      venue.orderEntry.listOpenOrders({ account: "", instrument: "" }, auth(tokenOf("bob")), cb),
    );
    expect(open.orders.map((o) => o.orderId)).toContain(orderId);
    await release(KillSwitchScope.ACCOUNT, "bob");
    expect(outcome(await staleOrder("bob", "keep-after"))).toBe("accepted");
  }, 60_000);
});
