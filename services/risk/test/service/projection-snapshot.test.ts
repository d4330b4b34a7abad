import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventStreamName,
  ExecType,
  Side,
  snapshotsBucket,
  type ExecutionReport,
  type GetPositionsResponse,
  type ListOpenOrdersResponse,
  type StreamExecutionReportsResponse,
} from "@tradeplane/contracts";
import { openBlobStore, type BlobStore } from "@tradeplane/platform";
import { unary } from "@tradeplane/testkit";
import { snapshotName, SNAPSHOT_PREFIX } from "../../src/adapters/projection-snapshots.ts";
import { ADMIN_TOKEN, auth, order, sample, scrape, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

const VENUE = "snap";
const ACCOUNTS = ["alice", "bob"] as const;

describe("projection snapshots: a restarted gateway loads the newest and follows on from it", () => {
  let venue: Venue;
  let store: BlobStore;

  beforeAll(async () => {
    venue = await startVenue({ venue: VENUE, accounts: ACCOUNTS.map((name) => ({ name })) });
    store = await openBlobStore(venue.nc, snapshotsBucket(VENUE));
  });

  afterAll(async () => {
    await venue?.close();
  });

  /** Some trading: resting orders on both sides and instruments, fills, a partial fill, a cancel. */
  const trade = async (round: number) => {
    const r = (s: string) => `${s}-${round}`;
    await venue.submit(tokenOf("alice"), order({ clientOrderId: r("a-s1"), side: Side.SELL, price: 100_010, qty: 10 }));
    await venue.submit(tokenOf("bob"), order({ clientOrderId: r("b-b1"), price: 100_010, qty: 4 }));
    await venue.submit(tokenOf("bob"), order({ clientOrderId: r("b-b2"), instrument: "TCS", price: 99_000, qty: 3 }));
    await venue.submit(
      tokenOf("alice"),
      order({ clientOrderId: r("a-s2"), instrument: "TCS", side: Side.SELL, price: 99_000, qty: 1 }),
    );
    await unary((cb) =>
      venue.orderEntry.cancelOrder(
        { account: "", instrument: "TCS", target: { $case: "origClientOrderId", value: r("b-b2") }, clientOrderId: "" },
        auth(tokenOf("bob")),
        cb,
      ),
    );
  };

  const reportsOf = async (account: string): Promise<ExecutionReport[]> => {
    const last = (
      await unary<ListOpenOrdersResponse>((cb) =>
        venue.orderEntry.listOpenOrders({ account: "", instrument: "" }, auth(tokenOf(account)), cb),
      )
    ).asOfSequence;
    const stream = venue.orderEntry.streamExecutionReports({ account: "", fromSequence: 1 }, auth(tokenOf(account)));
    const got: ExecutionReport[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (m: StreamExecutionReportsResponse) => {
        if (m.message?.$case === "report") got.push(m.message.value);
        if (got.length === last) resolve();
      });
      stream.on("error", reject);
    });
    stream.cancel();
    return got;
  };

  /** Everything a client or an operator can see of the projection. */
  const state = async () => ({
    positions: await unary<GetPositionsResponse>((cb) =>
      venue.admin.getPositions({ account: "", instrument: "" }, auth(ADMIN_TOKEN), cb),
    ),
    openOrders: await Promise.all(
      ACCOUNTS.map(
        async (a) =>
          await unary<ListOpenOrdersResponse>((cb) =>
            venue.orderEntry.listOpenOrders({ account: "", instrument: "" }, auth(tokenOf(a)), cb),
          ),
      ),
    ),
    reports: await Promise.all(ACCOUNTS.map((a) => reportsOf(a))),
  });

  it("writes a snapshot at shutdown and restarts from it, with the same positions, orders and reports", async () => {
    await trade(1);
    const before = await state();
    // Every account's positions, ascending by account then instrument, as of the event stream's sequence.
    expect(before.positions.positions.map((p) => [p.account, p.instrument, p.netQty])).toEqual([
      ["alice", "INFY", -4],
      ["alice", "TCS", -1],
      ["bob", "INFY", 4],
      ["bob", "TCS", 1],
    ]);
    const seq = sample(await scrape(venue), "tp_risk_event_stream_seq")!;
    expect(seq).toBeGreaterThan(0);
    expect(before.positions.asOfSourceSequence).toBe(seq);

    await venue.restartGateway();
    expect((await store.list(SNAPSHOT_PREFIX)).sort()).toContain(snapshotName(seq));
    const metrics = await scrape(venue);
    expect(sample(metrics, "tp_risk_projection_started_from_seq")).toBe(seq);
    expect(sample(metrics, "tp_risk_events_applied_since_start")).toBe(0);
    expect(await state()).toEqual(before);

    // Report numbering goes on from where the snapshot left off.
    const lastAlice = before.reports[0]!.at(-1)!.sequence;
    const next = await venue.submit(
      tokenOf("alice"),
      order({ clientOrderId: "after", side: Side.SELL, price: 100_500 }),
    );
    expect(next.reports[0]).toMatchObject({ execType: ExecType.NEW, sequence: lastAlice + 1 });
  });

  it("skips a snapshot that does not load, takes the one before it, and replays the events after it", async () => {
    const older = sample(await scrape(venue), "tp_risk_projection_started_from_seq")!;
    await trade(2);
    const before = await state();
    const seq = sample(await scrape(venue), "tp_risk_event_stream_seq")!;
    await venue.restartGateway(async () => {
      // The shutdown wrote the newest; spoil it.
      expect(await store.list(SNAPSHOT_PREFIX)).toContain(snapshotName(seq));
      await store.put(snapshotName(seq), new TextEncoder().encode('{"format":"tradeplane.risk.projection","stre'));
    });
    const metrics = await scrape(venue);
    expect(sample(metrics, "tp_risk_projection_started_from_seq")).toBe(older);
    expect(sample(metrics, "tp_risk_events_applied_since_start")).toBe(seq - older);
    expect(await state()).toEqual(before);
  });

  it("replays from the stream's start when no snapshot loads, and keeps only the newest few", async () => {
    const before = await state();
    const seq = sample(await scrape(venue), "tp_risk_event_stream_seq")!;
    await venue.restartGateway(async () => {
      for (const name of await store.list(SNAPSHOT_PREFIX)) await store.put(name, new TextEncoder().encode("garbage"));
    });
    const metrics = await scrape(venue);
    expect(sample(metrics, "tp_risk_projection_started_from_seq")).toBe(0);
    expect(sample(metrics, "tp_risk_events_applied_since_start")).toBe(seq);
    expect(await state()).toEqual(before);
    expect((await store.list(SNAPSHOT_PREFIX)).length).toBeLessThanOrEqual(3);
  });

  it("starts when the event stream's last message was deleted, and goes on past the lost message", async () => {
    const jsm = await jetstreamManager(venue.nc);
    const stream = eventStreamName(VENUE);
    const last = (await jsm.streams.info(stream)).state.last_seq;
    // Before the fix, start-up waited for message `last` to be read: forever.
    await venue.restartGateway(async () => {
      for (const name of await store.list(SNAPSHOT_PREFIX)) await store.put(name, new TextEncoder().encode("garbage"));
      await jsm.streams.deleteMessage(stream, last);
    });
    expect(sample(await scrape(venue), "tp_risk_event_stream_seq")).toBe(last - 1);
    // The lost message is a gap in its partition. The next message names it stored before
    // itself, so the gateway knows it is gone, counts the gap and goes on.
    const after = await venue.submit(tokenOf("alice"), order({ clientOrderId: "after-delete", qty: 1 }));
    expect(after.reports[0]).toMatchObject({ execType: ExecType.NEW });
    expect(sample(await scrape(venue), "tp_risk_event_gaps_skipped")).toBe(1);
  });
});
