import { describe, expect, it } from "vitest";
import {
  accountsBucket,
  fixSessionsBucket,
  commandStreamName,
  commandSubject,
  commandSubjects,
  eventInstrumentToken,
  eventMsgId,
  eventStreamName,
  eventSubject,
  eventSubjectPartition,
  eventSubjects,
  InvalidNameError,
  isInstrumentSymbol,
  isVenueName,
  leasesBucket,
  ownersBucket,
  snapshotsBucket,
  venueStreamPrefix,
} from "../src/index.ts";

describe("venue names", () => {
  it.each([
    ["a plain lowercase word", "spot", true],
    ["hyphens inside", "eu-spot-2", true],
    ["a single letter", "x", true],
    ["63 characters", "v" + "a".repeat(62), true],
    ["the empty string", "", false],
    ["64 characters", "v" + "a".repeat(63), false],
    ["upper case letters", "Spot", false],
    ["a leading digit (Service names must start with a letter)", "1spot", false],
    ["a leading hyphen", "-spot", false],
    ["a trailing hyphen", "spot-", false],
    ["a dot (a NATS token separator)", "eu.spot", false],
    ["an underscore", "eu_spot", false],
    ["a wildcard", "spot*", false],
    ["whitespace", "eu spot", false],
    ["non-ASCII letters", "spöt", false],
  ])("%s: %j is valid = %s", (_case, venue, valid) => {
    expect(isVenueName(venue)).toBe(valid);
    if (valid) expect(() => commandStreamName(venue)).not.toThrow();
    else expect(() => commandStreamName(venue)).toThrow(InvalidNameError);
  });

  it("names the error and the rule when it refuses a venue name", () => {
    expect(() => leasesBucket("Bad.Venue")).toThrow(/invalid venue name "Bad\.Venue": expected 1\.\.63 characters/);
    let thrown: unknown;
    try {
      eventStreamName("");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidNameError);
    expect((thrown as Error).name).toBe("InvalidNameError");
  });
});

describe("stream, subject and bucket names", () => {
  it.each([
    ["the stream name prefix is the venue in upper case", () => venueStreamPrefix("eu-spot"), "EU-SPOT"],
    ["the command stream", () => commandStreamName("eu-spot"), "EU-SPOT_CMD"],
    ["the event stream", () => eventStreamName("eu-spot"), "EU-SPOT_EVT"],
    ["a partition's command subject", () => commandSubject("eu-spot", 3), "tp.eu-spot.cmd.3"],
    ["the command stream's subjects", () => commandSubjects("eu-spot"), "tp.eu-spot.cmd.*"],
    ["an event subject", () => eventSubject("eu-spot", 0, "BTC-USD"), "tp.eu-spot.evt.0.BTC-USD"],
    ["an unrouted event subject", () => eventSubject("eu-spot", 0, "_"), "tp.eu-spot.evt.0._"],
    ["all events", () => eventSubjects("eu-spot"), "tp.eu-spot.evt.*.*"],
    ["one partition's events", () => eventSubjects("eu-spot", { partition: 2 }), "tp.eu-spot.evt.2.*"],
    ["one instrument's events", () => eventSubjects("eu-spot", { instrument: "ETH_USD" }), "tp.eu-spot.evt.*.ETH_USD"],
    ["the leases bucket", () => leasesBucket("eu-spot"), "tp_eu-spot_leases"],
    ["the accounts bucket", () => accountsBucket("eu-spot"), "tp_eu-spot_accounts"],
    ["the account owners bucket", () => ownersBucket("eu-spot"), "tp_eu-spot_owners"],
    ["the snapshots bucket", () => snapshotsBucket("eu-spot"), "tp_eu-spot_snapshots"],
    ["the FIX sessions bucket", () => fixSessionsBucket("eu-spot"), "tp_eu-spot_fix"],
  ])("%s", (_case, build, expected) => {
    expect(build()).toBe(expected);
  });

  it.each([
    ["a negative partition", () => commandSubject("spot", -1)],
    ["a fractional partition", () => commandSubject("spot", 1.5)],
    ["a partition beyond uint32", () => commandSubject("spot", 2 ** 32)],
    ["NaN as partition", () => eventSubjects("spot", { partition: Number.NaN })],
    ["an instrument with a dot", () => eventSubject("spot", 0, "BRK.B")],
    ["an instrument with a wildcard", () => eventSubject("spot", 0, ">")],
    ["an empty instrument", () => eventSubject("spot", 0, "")],
    ["an instrument starting with an underscore", () => eventSubject("spot", 0, "_X")],
    ["an instrument of 33 characters", () => eventSubject("spot", 0, "A".repeat(33))],
  ])("refuses %s", (_case, build) => {
    expect(build).toThrow(InvalidNameError);
  });
});

describe("instrument symbols", () => {
  it.each([
    ["BTC-USD", true],
    ["ESZ5", true],
    ["eth_usd", true],
    ["1INCH-USD", true],
    ["A".repeat(32), true],
    ["A".repeat(33), false],
    ["", false],
    ["_", false],
    ["-X", false],
    ["BRK.B", false],
    ["BTC USD", false],
    ["BTC/USD", false],
    ["*", false],
  ])("%j is a valid symbol = %s", (symbol, valid) => {
    expect(isInstrumentSymbol(symbol)).toBe(valid);
  });

  it.each([
    ["a valid symbol is its own token", "BTC-USD", "BTC-USD"],
    ["client text with a dot becomes the unrouted token", "BTC.USD", "_"],
    ["a wildcard becomes the unrouted token", "tp.>", "_"],
    ["an empty symbol becomes the unrouted token", "", "_"],
  ])("%s", (_case, instrument, token) => {
    expect(eventInstrumentToken(instrument)).toBe(token);
    expect(() => eventSubject("spot", 0, eventInstrumentToken(instrument))).not.toThrow();
  });
});

describe("event message ids", () => {
  it.each([
    ["the first event of the first command", 1, 0, "1-0"],
    ["a later event", 1_000_000, 17, "1000000-17"],
    ["the largest safe command sequence", Number.MAX_SAFE_INTEGER, 4_294_967_295, "9007199254740991-4294967295"],
  ])("%s", (_case, commandSeq, index, id) => {
    expect(eventMsgId(commandSeq, index)).toBe(id);
  });

  it.each([
    ["command sequence 0 (JetStream sequences start at 1)", 0, 0],
    ["a negative command sequence", -5, 0],
    ["a fractional command sequence", 1.5, 0],
    ["an unsafe command sequence", 2 ** 53, 0],
    ["a negative index", 1, -1],
    ["a fractional index", 1, 0.5],
    ["an index beyond uint32", 1, 2 ** 32],
  ])("refuses %s", (_case, commandSeq, index) => {
    expect(() => eventMsgId(commandSeq, index)).toThrow(InvalidNameError);
  });
});

describe("the partition of an event subject", () => {
  it.each([
    ["partition 0", "tp.spot.evt.0.BTC-USD", 0],
    ["a partition of several digits", "tp.eu-spot.evt.1234.X", 1234],
    ["the largest partition", `tp.v.evt.${0xffff_ffff}.X`, 0xffff_ffff],
    ["the unrouted token as instrument", "tp.spot.evt.3._", 3],
    ["a command subject", "tp.spot.cmd.0", undefined],
    ["another root", "xx.spot.evt.0.X", undefined],
    ["no instrument token", "tp.spot.evt.0", undefined],
    ["an empty partition token", "tp.spot.evt..X", undefined],
    ["a leading zero", "tp.spot.evt.01.X", undefined],
    ["a sign", "tp.spot.evt.-1.X", undefined],
    ["past the largest partition", `tp.v.evt.${0x1_0000_0000}.X`, undefined],
  ])("%s: %s is partition %s", (_case, subject, partition) => {
    expect(eventSubjectPartition(subject)).toBe(partition);
  });

  it("reads back what eventSubject builds", () => {
    for (const p of [0, 1, 7, 99, 65_536]) expect(eventSubjectPartition(eventSubject("spot", p, "ETH-USD"))).toBe(p);
  });
});
