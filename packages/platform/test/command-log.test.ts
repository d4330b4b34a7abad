import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { CommandBatch, commandSeqOf, commandStreamName, Side, type Command } from "@tradeplane/contracts";
import { connectTo, NatsServer, newLimitOrder } from "@tradeplane/testkit";
import {
  commandLogWriter,
  provision,
  UnavailableError,
  ValidationError,
  venueProvisioningPlan,
  type CommandLogWriter,
} from "../src/index.ts";

const VENUE = "writer";

const order = (clientOrderId: string, instrument: string, qty = 1): Omit<Command, "traceparent"> => ({
  timestamp: { seconds: 1_767_225_600, nanos: 0 },
  account: "alice",
  source: "test",
  ownerEpoch: 0,
  body: newLimitOrder({ clientOrderId, instrument, side: Side.BUY, price: 100, qty }),
});

describe("commandLogWriter against a real nats-server", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let writer: CommandLogWriter;

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connectTo(server.url);
    await provision(nc, venueProvisioningPlan({ venue: VENUE }));
    writer = commandLogWriter(nc, VENUE, 5_000);
  });

  afterAll(async () => {
    writer?.close();
    await nc?.close();
    await server?.dispose();
  });

  /** The commands of the log entry at stream sequence `seq`. */
  const entryAt = async (seq: number): Promise<Command[]> => {
    const jsm = await jetstreamManager(nc);
    const m = await jsm.streams.getMessage(commandStreamName(VENUE), { seq });
    return CommandBatch.decode(m!.data).commands;
  };

  it("writes the appends of one turn as one entry per partition, grouped by instrument, each with its own sequence", async () => {
    const appended = await Promise.all([
      writer.append(0, order("a", "INFY")),
      writer.append(0, order("b", "TCS")),
      writer.append(0, order("c", "INFY")),
      writer.append(1, order("d", "SBIN")),
    ]);
    const [a, b, c, d] = appended;
    expect(a!.entrySeq).toBe(b!.entrySeq);
    expect(c!.entrySeq).toBe(a!.entrySeq);
    expect(d!.entrySeq).not.toBe(a!.entrySeq);
    // INFY's two orders first, in their order, then TCS.
    expect([a!.seq, c!.seq, b!.seq]).toEqual([0, 1, 2].map((p) => commandSeqOf(a!.entrySeq, p)));
    expect((await entryAt(a!.entrySeq)).map((x) => (x.body?.value as { clientOrderId: string }).clientOrderId)).toEqual(
      ["a", "c", "b"],
    );
    expect(d!.seq).toBe(commandSeqOf(d!.entrySeq, 0));
  });

  it("writes appends of different turns as different entries", async () => {
    const first = await writer.append(0, order("e", "INFY"));
    const second = await writer.append(0, order("f", "INFY"));
    expect(second.entrySeq).toBeGreaterThan(first.entrySeq);
    expect(second.seq).toBe(commandSeqOf(second.entrySeq, 0));
  });

  it("fails only the command that does not encode, not those that share its entry", async () => {
    const bad = order("g", "INFY", 1.5); // a quantity that is no integer does not encode as uint64
    const [good, refused] = await Promise.allSettled([writer.append(0, order("h", "INFY")), writer.append(0, bad)]);
    expect(good.status).toBe("fulfilled");
    expect(refused).toMatchObject({ status: "rejected", reason: expect.any(ValidationError) });
    const stored = await entryAt((good as PromiseFulfilledResult<{ entrySeq: number }>).value.entrySeq);
    expect(stored).toHaveLength(1);
  });

  it("fails every append of an entry the log does not store, as unavailable", async () => {
    const other = commandLogWriter(nc, "nostream", 2_000);
    await expect(other.append(0, order("i", "INFY"))).rejects.toBeInstanceOf(UnavailableError);
    other.close();
  });

  it("fails the appends of the current turn when closed before they are written", async () => {
    const closing = commandLogWriter(nc, VENUE, 2_000);
    const pending = closing.append(0, order("k", "INFY"));
    closing.close();
    await expect(pending).rejects.toBeInstanceOf(UnavailableError);
  });

  it("stores the trace context of each command it is given", async () => {
    const traced = await writer.append(0, {
      ...order("j", "INFY"),
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    });
    const [stored] = await entryAt(traced.entrySeq);
    expect(stored!.traceparent).toContain("4bf92f3577b34da6a3ce929d0e0e4736");
  });
});
