import { credentials, Metadata, status } from "@grpc/grpc-js";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  accountsBucket,
  EngineEventBatch,
  eventMsgId,
  eventStreamName,
  JournalQueryClient,
  type GetClearingObligationsResponse,
} from "@tradeplane/contracts";
import { provision, venueProvisioningPlan } from "@tradeplane/platform";
import { Kvm } from "@nats-io/kv";
import { Registry } from "prom-client";
import { putAccount, putToken, revokeToken } from "@tradeplane/accounts";
import { connectTo, NatsServer, retry, unary } from "@tradeplane/testkit";
import { lagSecondsGauge } from "../../src/adapters/query-metrics.ts";
import { journalConfigSchema } from "../../src/config.ts";
import { main, type StartedJournal } from "../../src/main.ts";
import { NOTIONAL_PER_TICK_LOT, workedDayMessages } from "./worked-day.ts";

/**
 * The journal's composition root as local mode runs it: a real nats-server holding the
 * hand-worked day in the venue's event stream, the journal with embedded PGlite, and
 * JournalQuery over real gRPC answering once the projector has caught up; its metrics say
 * how far behind it is.
 */

const VENUE = "worked";
const TOKEN = "read-only-token-0123456789";
const A_TOKEN = "trading-token-of-account-a";
let nats: NatsServer;
let nc: NatsConnection;
let journal: StartedJournal | undefined;

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connectTo(nats.url);
  await provision(nc, venueProvisioningPlan({ venue: VENUE, storage: "memory" }));
  const js = jetstream(nc);
  for (const m of workedDayMessages(VENUE).messages) {
    if (!("events" in m)) continue;
    const last = m.events.at(-1)!;
    await js.publish(m.subject, EngineEventBatch.encode({ events: [...m.events] }).finish(), {
      msgID: eventMsgId(last.commandSeq, last.index),
    });
  }
}, 60_000);

afterAll(async () => {
  await journal?.shutdown.run();
  await nc?.close();
  await nats?.dispose();
});

it("serves the hand-worked day's obligations over gRPC once it has projected the stream, and shows no lag", async () => {
  journal = await main(
    journalConfigSchema.parse({
      venue: VENUE,
      natsUrl: [nats.url],
      pgliteDir: "",
      grpcHost: "127.0.0.1",
      grpcPort: 0,
      opsHost: "127.0.0.1",
      opsPort: 0,
      logLevel: "silent",
      adminTokens: { readOnly: TOKEN },
      instruments: [...NOTIONAL_PER_TICK_LOT].map(([symbol, notionalPerTickLot]) => ({ symbol, notionalPerTickLot })),
    }),
  );
  const client = new JournalQueryClient(`127.0.0.1:${journal.grpcPort}`, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${TOKEN}`);
  try {
    // Every account shows up after its first trade is projected, well before the last one is:
    // wait until the journal holds everything the stream holds.
    const ops = `http://127.0.0.1:${journal.opsPort}`;
    await retry(async () => {
      const lag = /^tp_journal_lag_messages\{[^}]*\} (\d+)$/m.exec(await (await fetch(`${ops}/metrics`)).text());
      if (lag?.[1] !== "0") throw new Error(`not projected yet: ${lag?.[1] ?? "no lag gauge"} messages behind`);
    });
    const res = await unary<GetClearingObligationsResponse>((cb) =>
      client.getClearingObligations({ tradingDay: "2026-12-03", account: "" }, metadata, cb),
    );
    expect(res.settlementDate).toBe("2026-12-04");
    expect(res.funds).toEqual([
      { account: "A", netFunds: 194_147_000 },
      { account: "B", netFunds: 196_375_000 },
      { account: "C", netFunds: -390_522_000 },
    ]);
    expect((await fetch(`${ops}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    expect(metrics).toMatch(/^tp_journal_lag_messages\{[^}]*\} 0$/m);
    expect(metrics).toMatch(/^tp_journal_lag_seconds\{[^}]*\} 0$/m);
    expect(metrics).toMatch(/^tp_journal_queries_total\{method="GetClearingObligations",code="OK",[^}]*\} [1-9]/m);

    // A trading token from the venue's accounts bucket reads its own account only, until revoked.
    const kv = await new Kvm(nc).open(accountsBucket(VENUE));
    await putAccount(kv, { name: "A", disabled: false, principals: ["A"], limits: {}, defaultStpMode: 0 });
    await putToken(kv, A_TOKEN, "A");
    const asA = new Metadata();
    asA.set("authorization", `Bearer ${A_TOKEN}`);
    const own = await unary<GetClearingObligationsResponse>((cb) =>
      client.getClearingObligations({ tradingDay: "2026-12-03", account: "" }, asA, cb),
    );
    expect(own.funds).toEqual([{ account: "A", netFunds: 194_147_000 }]);
    await expect(
      unary((cb) => client.getClearingObligations({ tradingDay: "2026-12-03", account: "B" }, asA, cb)),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await revokeToken(kv, A_TOKEN);
    await expect(
      unary((cb) => client.getClearingObligations({ tradingDay: "2026-12-03", account: "" }, asA, cb)),
    ).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  } finally {
    client.close();
  }
});

it("reports the age of the oldest message not yet journaled as the lag in seconds", async () => {
  const jsm = await jetstream(nc).jetstreamManager();
  const stream = eventStreamName(VENUE);
  const third = (await jsm.streams.getMessage(stream, { seq: 3 }))!.time.getTime();
  let position = 2;
  const registry = new Registry();
  const gauge = lagSecondsGauge(
    registry,
    () => position,
    jsm,
    VENUE,
    () => third + 7_500,
  );
  expect((await gauge.get()).values[0]!.value).toBe(7.5);
  position = (await jsm.streams.info(stream)).state.last_seq;
  expect((await gauge.get()).values[0]!.value).toBe(0);
});
