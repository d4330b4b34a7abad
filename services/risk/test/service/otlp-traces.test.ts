import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StandInCollector, type ReceivedSpan } from "@tradeplane/testkit";
import { order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

/**
 * Traces leave the processes: the gateway (in this process) and the engine (a child process)
 * export over OTLP/HTTP to a stand-in collector, and one order's spans arrive as one trace.
 */

let collector: StandInCollector;
let venue: Venue;

beforeAll(async () => {
  collector = await new StandInCollector().start();
  venue = await startVenue({
    venue: "otlp",
    accounts: [{ name: "alice" }],
    tracing: { tracing: "otlp", otlpEndpoint: collector.endpoint, traceSampleRatio: 1 },
  });
});

afterAll(async () => {
  await venue?.close();
  await collector?.close();
});

async function waitForSpans(check: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check(collector.spans)) {
    if (Date.now() > deadline) throw new Error(`spans received: ${JSON.stringify(collector.spans, null, 1)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("traces exported over OTLP", () => {
  it("hold the gateway's, the engine's and the execution report's spans of one order in one trace", async () => {
    const res = await venue.submit(tokenOf("alice"), order({ clientOrderId: "traced-1", qty: 3 }));
    expect(res.reports.length).toBeGreaterThan(0);
    const gatewaySpan = () =>
      collector.spans.find((s) => s.service === "tradeplane-risk" && s.name === "tradeplane.v1.OrderEntry/SubmitOrder");
    await waitForSpans((spans) => {
      const g = gatewaySpan();
      return (
        g !== undefined &&
        spans.some((s) => s.service === "tradeplane-matching" && s.traceId === g.traceId) &&
        spans.some((s) => s.name === "risk.execution-reports" && s.traceId === g.traceId)
      );
    });
    const gateway = gatewaySpan()!;
    const engine = collector.spans.find((s) => s.service === "tradeplane-matching" && s.traceId === gateway.traceId)!;
    expect(engine.name).toBe("engine.apply");
    // The engine applied the command the gateway wrote inside its span: the gateway's span is its parent.
    expect(engine.parentSpanId).toBe(gateway.spanId);
    // The gateway applied the engine's events (and made the order's report) in a child of the engine's span.
    const report = collector.spans.find((s) => s.name === "risk.execution-reports" && s.traceId === gateway.traceId)!;
    expect(report.service).toBe("tradeplane-risk");
    expect(report.parentSpanId).toBe(engine.spanId);
  });
});
