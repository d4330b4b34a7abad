// Traces from FIX through gRPC and the command log to the engine: every service of the
// venue runs in its own process and exports over OTLP/HTTP to a stand-in collector, and
// one NewOrderSingle arrives there as one trace whose root is the FIX gateway's span.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StandInCollector } from "@tradeplane/testkit";
import { FixClient } from "../support/fix-client.ts";
import { startFixVenue, type FixVenue } from "../support/venue.ts";

let collector: StandInCollector;
let venue: FixVenue;

beforeAll(async () => {
  collector = await new StandInCollector().start();
  venue = await startFixVenue("fixotlp", [{ id: "traced", compId: "TRACED", account: "acc1" }], {
    processes: true,
    otlpEndpoint: collector.endpoint,
  });
});
afterAll(async () => {
  await venue?.close();
  await collector?.close();
});

describe("traces of a FIX order exported over OTLP", () => {
  it("hold the FIX gateway's span as the root, the risk gateway's under it and the engine's under that", async () => {
    const client = await FixClient.logon(venue.gateway.fixPort, "TRACED");
    client.send("D", "11=traced-1|55=INFY|54=1|38=3|40=2|44=999.00|59=1", { sender: "TRACED" });
    expect(await client.waitFor((f) => f[35] === "8" && f[11] === "traced-1")).toMatchObject({ 150: "0" });

    const fixSpan = () => collector.spans.find((s) => s.service === "tradeplane-fix-gateway" && s.name === "fix D");
    const inTrace = (traceId: string) => collector.spans.filter((s) => s.traceId === traceId);
    await collector.waitForSpans(() => {
      const root = fixSpan();
      return (
        root !== undefined &&
        inTrace(root.traceId).some((s) => s.service === "tradeplane-risk") &&
        inTrace(root.traceId).some((s) => s.service === "tradeplane-matching")
      );
    });
    const root = fixSpan()!;
    expect(root.parentSpanId).toBe("");
    const spans = inTrace(root.traceId);
    // D goes on the FIX session's OrderEntry.Session stream, its span's traceparent in the request.
    const risk = spans.find((s) => s.name === "tradeplane.v1.OrderEntry/Session SubmitOrder")!;
    expect(risk.service).toBe("tradeplane-risk");
    expect(risk.parentSpanId).toBe(root.spanId);
    const engine = spans.find((s) => s.service === "tradeplane-matching")!;
    expect(engine.name).toBe("engine.apply");
    expect(engine.parentSpanId).toBe(risk.spanId);
    // One trace, one root: every other span of it hangs from a span of the same trace.
    const ids = new Set(spans.map((s) => s.spanId));
    expect(spans.filter((s) => !ids.has(s.parentSpanId)).map((s) => s.name)).toEqual(["fix D"]);
    // The order's trace is its own: the Logon and the other spans of the run are elsewhere.
    expect(collector.spans.filter((s) => s.name === "fix D")).toHaveLength(1);
    client.close();
  });
});
