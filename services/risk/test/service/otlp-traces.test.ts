import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StandInCollector, type ReceivedSpan } from "@tradeplane/testkit";
import type { SessionResponse } from "@tradeplane/contracts";
import { auth, order, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

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

  it("make a Session request's span a child of the traceparent it carries, and the engine's a child of that", async () => {
    // A client span of our own: the request names it, as the FIX gateway does for each order.
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const clientSpanId = "00f067aa0ba902b7";
    const session = venue.orderEntry.session(auth(tokenOf("alice")));
    const received: SessionResponse[] = [];
    session.on("data", (m: SessionResponse) => received.push(m));
    session.on("error", () => undefined);
    session.write({
      sequence: 1,
      message: {
        $case: "open",
        value: { account: "", cancelOnDisconnect: false, heartbeatIntervalMs: 0, acksOnly: false },
      },
    });
    session.write({
      sequence: 2,
      message: {
        $case: "batch",
        value: {
          requests: [
            {
              request: { $case: "submitOrder", value: order({ clientOrderId: "traced-s1", qty: 2 }) },
              traceparent: `00-${traceId}-${clientSpanId}-01`,
            },
            // Without one: decided as before, in no trace.
            {
              request: { $case: "submitOrder", value: order({ clientOrderId: "untraced-s2", qty: 2 }) },
              traceparent: "",
            },
          ],
        },
      },
    });
    const gatewaySpan = () =>
      collector.spans.find(
        (s) =>
          s.service === "tradeplane-risk" && s.traceId === traceId && s.name.startsWith("tradeplane.v1.OrderEntry/"),
      );
    try {
      await waitForSpans((spans) => {
        const g = gatewaySpan();
        return g !== undefined && spans.some((s) => s.service === "tradeplane-matching" && s.parentSpanId === g.spanId);
      });
    } finally {
      session.end();
    }
    const acks = received.find((m) => m.message?.$case === "acks");
    expect(acks?.message?.$case === "acks" && acks.message.value.acks.map((a) => a.accepted)).toEqual([true, true]);
    const gateway = gatewaySpan()!;
    expect(gateway.name).toBe("tradeplane.v1.OrderEntry/Session SubmitOrder");
    expect(gateway.parentSpanId).toBe(clientSpanId);
    const engine = collector.spans.find(
      (s) => s.service === "tradeplane-matching" && s.parentSpanId === gateway.spanId,
    )!;
    expect(engine.name).toBe("engine.apply");
    expect(engine.traceId).toBe(traceId);
    // One gateway span per traced request: the untraced one made none of this name in the trace.
    expect(
      collector.spans.filter((s) => s.traceId === traceId && s.name.startsWith("tradeplane.v1.OrderEntry/")),
    ).toHaveLength(1);
  });
});
