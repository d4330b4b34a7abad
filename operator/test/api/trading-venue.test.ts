import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@tradeplane/platform";
import {
  notionalPerTickLot,
  parseManifests,
  specJsonSchema,
  tickBandsOf,
  venueFrom,
  type TradingVenue,
} from "../../src/api/v1alpha1/index.ts";
import { BAD_STRATEGIES, BAD_VENUES, MINIMAL_VENUE, withInstrument } from "../fixtures/bad-manifests.ts";

const example = readFileSync(new URL("../../../examples/venue.yaml", import.meta.url), "utf8");

const minimal = MINIMAL_VENUE;

function venue(text: string): TradingVenue {
  return venueFrom(parseManifests(text, "test.yaml"), "test.yaml");
}

/** The messages of a manifest that fails validation. */
function errorsOf(text: string): string[] {
  try {
    parseManifests(text, "test.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error("expected the manifest to be refused");
}

describe("TradingVenue manifests", () => {
  it("parses the example venue with defaults applied", () => {
    const v = venue(example);
    expect(v.metadata.name).toBe("demo");
    expect(v.spec.market).toEqual({ currency: "INR", notionalExponent: -2 });
    const reliance = v.spec.instruments.find((i) => i.symbol === "RELIANCE")!;
    expect(reliance).toMatchObject({ partition: 0, priceUnit: "0.01", lotSize: "1", qtyIncrement: 1, minQty: 1 });
    expect(tickBandsOf(reliance)[2]).toEqual({ fromPrice: 100_000, tickSize: 10 });
    const future = v.spec.instruments.find((i) => i.symbol === "NIFTY-FUT")!;
    expect(notionalPerTickLot(future, -2)).toBe(75);
    expect(v.spec.engine).toMatchObject({ cpus: 1, standby: false, snapshotEveryCommands: 50_000 });
    expect(v.spec.streams).toMatchObject({ replicas: 1, storage: "file", eventMaxAge: "7d" });
    expect(v.spec.calendar).toMatchObject({ timeZone: "Asia/Kolkata", settlementDays: 1 });
    expect(v.spec.journal).toMatchObject({ enabled: true, poolSize: 4 });
    expect(v.spec.journal.databaseUrlSecret).toBeUndefined();
  });

  it("gives a venue without calendar an IST, T+1 calendar of calendar dates, and no journal", () => {
    const v = venue(minimal);
    expect(v.spec.calendar).toEqual({
      timeZone: "Asia/Kolkata",
      tradingDayEnd: "24:00",
      weekendDays: ["Sat", "Sun"],
      holidays: [],
      settlementDays: 1,
    });
    expect(v.spec.journal).toEqual({ enabled: false, embeddedStorage: "10Gi", poolSize: 4, batchMessages: 512 });
  });

  it.each([
    ["a zone the runtime does not know", 'calendar: { timeZone: "Mars/Olympus" }', "spec.calendar.timeZone"],
    ["a date that does not exist", 'calendar: { holidays: ["2026-02-30"] }', "spec.calendar.holidays[0]"],
  ])("refuses %s (zod only: the API server checks the shape)", (_, yaml, field) => {
    expect(errorsOf(`${minimal}  ${yaml}\n`).join("\n")).toContain(`test.yaml: ${field}:`);
  });

  it("takes the database Secret's key by default", () => {
    const v = venue(`${minimal}  journal: { enabled: true, databaseUrlSecret: { name: demo-journal-db } }\n`);
    expect(v.spec.journal.databaseUrlSecret).toEqual({ name: "demo-journal-db", key: "database-url" });
  });

  it("takes the NATS CA Secret's key by default, and keeps TLS alone ({}) as asked", () => {
    const v = venue(`${minimal}  nats: { tls: { caSecret: { name: nats-ca }, clientCertSecret: demo-nats } }\n`);
    expect(v.spec.nats.tls).toEqual({ caSecret: { name: "nats-ca", key: "ca.crt" }, clientCertSecret: "demo-nats" });
    expect(venue(`${minimal}  nats: { tls: {} }\n`).spec.nats.tls).toEqual({});
    expect(venue(minimal).spec.nats.tls).toBeUndefined();
  });

  it("fills every section's defaults for a minimal venue", () => {
    const v = venue(minimal);
    expect(v.spec.engine).toEqual({
      cpus: 1,
      memory: "2Gi",
      standby: false,
      snapshotEveryCommands: 100_000,
      snapshotEverySeconds: 60,
    });
    expect(v.spec.risk).toEqual({ replicas: 1, defaults: {}, commandTimeoutMs: 5_000 });
    expect(v.spec.instruments[0]).toMatchObject({ priceBandPercent: 10, initialState: "CONTINUOUS" });
  });

  it.each(BAD_VENUES)("refuses $name, naming the field", ({ text, field, zodField }) => {
    expect(errorsOf(text).join("\n")).toContain(`test.yaml: ${zodField ?? field}:`);
  });

  it.each(BAD_STRATEGIES)("refuses a strategy with $name, naming the field", ({ text, field, zodField }) => {
    expect(errorsOf(text).join("\n")).toContain(`test.yaml: ${zodField ?? field}:`);
  });

  it.each([
    ["a wrong apiVersion", minimal.replace("v1alpha1", "v1"), "test.yaml: apiVersion: must be tradeplane.io/v1alpha1"],
    [
      "an unknown kind",
      minimal.replace("kind: TradingVenue", "kind: Venue"),
      "test.yaml: kind: must be one of TradingVenue, StrategyDeployment",
    ],
    ["broken YAML", "kind: [", "test.yaml: is not valid YAML"],
    [
      "a reference price off tick",
      withInstrument("tickSize: 7"),
      "spec.instruments[0].referencePrice: must be a multiple of the tick size 7",
    ],
    [
      "a lot value below one money unit",
      withInstrument("priceUnit: '0.001'"),
      "spec.instruments[0].lotSize: priceUnit x lotSize must be a whole number",
    ],
    ["an unknown field", withInstrument("tickSzie: 5"), 'spec.instruments[0]: Unrecognized key: "tickSzie"'],
    [
      "a partition gap",
      withInstrument("partition: 1"),
      "spec.instruments: partitions must be numbered 0..0 without gaps",
    ],
  ])("refuses %s, saying why", (_name, text, expected) => {
    expect(errorsOf(text).join("\n")).toContain(expected);
  });

  it.each([
    ["a fixed tick", "tickSize: 5"],
    ["the NSE preset", "tickPreset: NSE"],
    ["explicit bands", "tickSchedule: [{fromPrice: 0, tickSize: 1}, {fromPrice: 5000, tickSize: 5}]"],
  ])("accepts %s", (_name, fields) => {
    expect(venue(withInstrument(fields)).spec.instruments).toHaveLength(1);
  });

  it("names the duplicate of a symbol", () => {
    const text = minimal.replace(
      "- { symbol: ABC, referencePrice: 10000 }",
      "- { symbol: ABC, referencePrice: 10000 }\n    - { symbol: ABC, referencePrice: 20000 }",
    );
    expect(errorsOf(text)).toEqual(["test.yaml: spec.instruments[1].symbol: duplicates instruments[0].symbol"]);
  });

  it("accepts several documents and validates a StrategyDeployment", () => {
    const strategy = readFileSync(new URL("../../../examples/strategy.yaml", import.meta.url), "utf8");
    const all = parseManifests(`${example}\n---\n${strategy}`, "all.yaml");
    expect(all.map((m) => m.kind)).toEqual(["TradingVenue", "StrategyDeployment"]);
    expect(errorsOf(strategy.replace("account: mm-1", "account: '-bad'")).join()).toContain("spec.account");
  });

  it("refuses a file with two venues for local mode", () => {
    expect(() => venueFrom(parseManifests(`${minimal}\n---\n${minimal}`, "two.yaml"), "two.yaml")).toThrow(
      "must hold exactly one TradingVenue (found 2)",
    );
  });
});

describe("JSON schema of the spec", () => {
  const schema = specJsonSchema("TradingVenue") as {
    properties: Record<string, { properties?: Record<string, Record<string, unknown>> }>;
    required: string[];
  };

  it("carries descriptions, defaults and bounds from the same definition", () => {
    expect(schema.required).toEqual(["instruments"]);
    const engine = schema.properties.engine!.properties!;
    expect(engine.cpus).toMatchObject({ type: "integer", minimum: 1, maximum: 64, default: 1 });
    expect(engine.standby!.description).toContain("hot standby");
    const instrument = (
      schema.properties.instruments as unknown as {
        items: { properties: Record<string, Record<string, unknown>>; required: string[] };
      }
    ).items;
    expect(instrument.required).toEqual(["symbol", "referencePrice"]);
    expect(instrument.properties.priceBandPercent).toMatchObject({ minimum: 0, maximum: 100, default: 10 });
  });

  it("has one for StrategyDeployment too", () => {
    expect(specJsonSchema("StrategyDeployment")).toMatchObject({
      required: expect.arrayContaining(["venueRef", "account"]),
    });
  });
});
