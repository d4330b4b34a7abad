import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials } from "@grpc/grpc-js";
import { ExecType, InstrumentState, RejectReason, VenueAdminClient } from "@tradeplane/contracts";
import { retry, unary } from "@tradeplane/testkit";
import { auth, ENGINE_ADMIN_TOKEN, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

/**
 * VenueAdmin.ChangeSession with a reference price (issue 14.11): the engine's price band and
 * the gateway's price collar follow the new reference.
 */
describe("a session change with a new reference price, end to end", () => {
  let venue: Venue;
  let engineAdmin: VenueAdminClient;
  let n = 0;

  beforeAll(async () => {
    venue = await startVenue({
      venue: "ses",
      accounts: [{ name: "alice", limits: { priceCollarBps: 500 } }, { name: "bob" }],
    });
    engineAdmin = new VenueAdminClient(`127.0.0.1:${venue.engine.grpcPort}`, credentials.createInsecure());
  });

  afterAll(async () => {
    engineAdmin?.close();
    await venue?.close();
  });

  const submit = (account: string, price: number) =>
    venue.submit(tokenOf(account), order({ clientOrderId: `o-${++n}`, instrument: "INFY", price }));
  const changeSession = (state: InstrumentState, referencePrice?: number) =>
    unary((cb) =>
      engineAdmin.changeSession(
        { instrument: "INFY", state, reason: "session", ...(referencePrice === undefined ? {} : { referencePrice }) },
        auth(ENGINE_ADMIN_TOKEN),
        cb,
      ),
    );

  it("moves the engine's band and the gateway's collar to the new reference", async () => {
    // Reference 100,000, band 10%: 150,000 is outside it.
    expect((await submit("bob", 150_000)).reports[0]).toMatchObject({
      rejectReason: RejectReason.OUTSIDE_PRICE_BAND,
    });
    await changeSession(InstrumentState.CLOSED);
    await changeSession(InstrumentState.CONTINUOUS, 150_000);
    // The gateway learns of the change through the engine's events: wait until it trades again.
    const accepted = await retry(
      async () => {
        const r = (await submit("bob", 150_000)).reports[0]!;
        if (r.execType !== ExecType.NEW) throw new Error(`still ${r.rejectReason}`);
        return r;
      },
      10_000,
      50,
    );
    expect(accepted.order!.price).toBe(150_000);
    // The old band's prices are outside the new one.
    expect((await submit("bob", 100_000)).reports[0]).toMatchObject({
      rejectReason: RejectReason.OUTSIDE_PRICE_BAND,
    });
    // The gateway's collar (5% for alice) is measured from the new reference.
    expect((await submit("alice", 155_000)).reports[0]!.execType).toBe(ExecType.NEW);
    expect((await submit("alice", 140_000)).reports[0]).toMatchObject({ rejectReason: RejectReason.PRICE_COLLAR });
  });
});
