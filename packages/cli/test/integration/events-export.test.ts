import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EngineEventBatch,
  eventStreamName,
  eventSubject,
  eventSubjects,
  type EngineEvent,
} from "@tradeplane/contracts";
import { parseRecording } from "@tradeplane/backtest";
import { JetStreamServer, REPO_ROOT } from "@tradeplane/testkit";
import { runCli as cli } from "../run-cli.ts";

/**
 * `tradeplane events export` against a real nats-server holding an event stream written by
 * hand: what a recording keeps, and a message that does not decode refused with its place.
 */
const MANIFEST = join(REPO_ROOT, "examples", "venue.yaml");
const dir = mkdtempSync(join(tmpdir(), "tp-events-export-"));
let js: JetStreamServer;

const at = { seconds: 1_767_225_600, nanos: 0 };
const accepted = (orderId: number, account: string): EngineEvent => ({
  commandSeq: orderId,
  index: 0,
  lastInCommand: false,
  timestamp: at,
  instrument: "INFY",
  body: {
    $case: "accepted",
    value: {
      orderId,
      clientOrderId: `secret-${account}`,
      account,
      side: 1,
      orderType: 1,
      timeInForce: 1,
      price: 150_000,
      stopPrice: 0,
      qty: 5,
      postOnly: false,
      stpMode: 0,
      displayQty: 0,
    },
  },
});
const delta = (commandSeq: number): EngineEvent => ({
  commandSeq,
  index: 1,
  lastInCommand: true,
  timestamp: at,
  instrument: "INFY",
  body: { $case: "bookDelta", value: { changes: [{ side: 1, price: 150_000, qty: 5, orderCount: 1 }] } },
});

beforeAll(async () => {
  js = await JetStreamServer.start();
  await js.jsm.streams.add({ name: eventStreamName("demo"), subjects: [eventSubjects("demo")] });
  const subject = eventSubject("demo", 0, "INFY");
  await js.js.publish(subject, EngineEventBatch.encode({ events: [accepted(1000, "alice"), delta(1000)] }).finish());
  await js.js.publish(subject, EngineEventBatch.encode({ events: [accepted(2000, "bob"), delta(2000)] }).finish());
});

afterAll(async () => {
  await js?.close();
});

describe("tradeplane events export", () => {
  it("writes the venue's instruments and its orders' events, accounts renamed, client order ids and book deltas left out", async () => {
    const out = join(dir, "ok.ndjson");
    const run = await cli("--json", "events", "export", "--out", out, "-f", MANIFEST, "--nats-url", js.url);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ out, venue: "demo", messages: 2, events: 2 });
    const text = readFileSync(out, "utf8");
    expect(text).not.toMatch(/alice|bob|secret/);
    const r = parseRecording(text);
    expect(r.header.instruments.map((i) => i.symbol)).toContain("INFY");
    expect(
      r.events.map((e) => [e.partition, e.event.body?.$case, (e.event.body?.value as { account: string }).account]),
    ).toEqual([
      [0, "accepted", "a1"],
      [0, "accepted", "a2"],
    ]);
  });

  it("refuses a stream message that is not an event batch, naming it", async () => {
    await js.js.publish(eventSubject("demo", 0, "INFY"), new TextEncoder().encode("x".repeat(100_000)));
    const run = await cli("events", "export", "--out", join(dir, "bad.ndjson"), "-f", MANIFEST, "--nats-url", js.url);
    expect(run.code).toBe(10);
    expect(run.stderr).toContain("event message 3 of DEMO_EVT:");
    expect(run.stderr.length).toBeLessThan(400);
  });
});
