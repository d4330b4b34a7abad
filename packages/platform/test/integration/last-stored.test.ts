import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JetStreamServer } from "@tradeplane/testkit";
import { lastStoredSeq } from "../../src/index.ts";

describe("lastStoredSeq on a real nats-server", () => {
  let nats: JetStreamServer;

  beforeAll(async () => {
    nats = await JetStreamServer.start();
    await nats.jsm.streams.add({ name: "LAST", subjects: ["t.evt.>"] });
  });

  afterAll(async () => {
    await nats?.close();
  });

  it("is 0 on an empty stream", async () => {
    expect(await lastStoredSeq(nats.jsm, "LAST")).toBe(0);
  });

  it("names the last stored message, not the last sequence assigned, once messages at the end are deleted", async () => {
    const { js, jsm } = nats;
    for (const subject of ["t.evt.0.A", "t.evt.1.B", "t.evt.0.A", "t.evt.1.B"]) await js.publish(subject, "x");
    await jsm.streams.deleteMessage("LAST", 4);
    expect((await jsm.streams.info("LAST")).state.last_seq).toBe(4);
    expect(await lastStoredSeq(jsm, "LAST")).toBe(3);
    await jsm.streams.deleteMessage("LAST", 3);
    await jsm.streams.deleteMessage("LAST", 2);
    expect(await lastStoredSeq(jsm, "LAST")).toBe(1);
    await jsm.streams.deleteMessage("LAST", 1);
    expect(await lastStoredSeq(jsm, "LAST")).toBe(0);
  });
});
