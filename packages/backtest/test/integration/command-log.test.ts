import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { commandSeqOf, commandStreamName, Side } from "@tradeplane/contracts";
import { decodeEntry } from "@tradeplane/matching-core/log-entry";
import { notionalPerTickLot, parseManifests, venueFrom } from "@tradeplane/operator/api/v1alpha1";
import { engineServiceConfig, localPorts } from "@tradeplane/operator/service-configs";
import { DemoVenue, REPO_ROOT, retry } from "@tradeplane/testkit";
import { SimulatedVenue } from "../../src/simulated-venue.ts";

/**
 * A venue's command log replayed through the simulated venue gives that venue's fills: a
 * real local venue trades, then its log is read back and applied at its own sequences,
 * and the account's position, P&L, lots and report count equal the live gateway's.
 */
let venue: DemoVenue;

beforeAll(async () => {
  venue = await DemoVenue.start();
});

afterAll(async () => {
  await venue?.stop();
});

const submit = (account: string, side: Side, price: number, qty: number, clientOrderId: string) =>
  venue.orders.submitLimit({ account, clientOrderId, side, price, qty });

describe("replaying a venue's command log", () => {
  it("reproduces the venue's fills for an account", async () => {
    await submit("demo-mm", Side.SELL, 150_000, 10, "m1");
    await submit("demo-taker", Side.BUY, 150_000, 4, "t1");
    await submit("demo-mm", Side.BUY, 149_900, 6, "m2");
    await submit("demo-taker", Side.SELL, 149_800, 9, "t2");
    await submit("demo-taker", Side.BUY, 150_100, 3, "t3");
    const live = await retry(async () => {
      const r = await venue.orders.positions("demo-mm", "INFY");
      expect(r.positions[0]?.boughtQty).toBe(6);
      return r;
    });

    const manifest = venueFrom(
      parseManifests(readFileSync(`${REPO_ROOT}/examples/venue.yaml`, "utf8"), "venue.yaml"),
      "venue.yaml",
    );
    const placement = { natsUrl: [venue.state.natsUrl], host: "127.0.0.1", ports: localPorts(7400) };
    const instruments = engineServiceConfig(manifest, 0, placement).instruments.map((i) => ({
      ...i,
      notionalPerTickLot: notionalPerTickLot(
        manifest.spec.instruments.find((x) => x.symbol === i.symbol)!,
        manifest.spec.market.notionalExponent,
      ),
    }));
    const sim = new SimulatedVenue(instruments);
    sim.watch("demo-mm");

    const nc = await connect({ servers: venue.state.natsUrl, token: venue.state.natsToken });
    try {
      const stream = commandStreamName("demo");
      const last = (await (await jetstreamManager(nc)).streams.info(stream)).state.last_seq;
      const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume({ max_messages: 1_024 });
      for await (const m of messages) {
        const entry = decodeEntry(m.data);
        entry.commands.forEach((c, i) => sim.applyLogged(commandSeqOf(m.seq, i), c, entry.error));
        if (m.seq >= last) break;
      }
      await messages.close();
    } finally {
      await nc.close();
    }

    const mine = sim.projection.positionOf("demo-mm", "INFY");
    const theirs = live.positions[0]!;
    expect({
      net: mine.netQty,
      bought: mine.boughtQty,
      sold: mine.soldQty,
      realised: mine.realisedPnl,
      lots: mine.lots,
    }).toEqual({
      net: theirs.netQty,
      bought: theirs.boughtQty,
      sold: theirs.soldQty,
      realised: theirs.realisedPnl,
      lots: theirs.openLots,
    });
    expect(sim.projection.lastReportSequence("demo-mm")).toBe(live.asOfReportSequence);
  });
});
