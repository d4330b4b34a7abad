// A stand-in OpenTelemetry collector for tests whose services export traces over OTLP/HTTP
// (JSON): it keeps every span it receives, with the service that sent it.
import { createServer, type Server } from "node:http";
import { freePort } from "./free-port.ts";

export interface ReceivedSpan {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
}

/** A stand-in OpenTelemetry collector: the OTLP/HTTP JSON traces endpoint, keeping what it receives. */
export class StandInCollector {
  readonly spans: ReceivedSpan[] = [];
  private readonly server: Server;
  private port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.method === "POST" && req.url === "/v1/traces")
          this.spans.push(...spansOf(Buffer.concat(chunks).toString()));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
  }

  async start(): Promise<this> {
    this.port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
    return this;
  }

  /** Resolves once `check` holds for the spans received; fails after `timeoutMs` with all it received. */
  async waitForSpans(check: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.spans)) {
      if (Date.now() > deadline) throw new Error(`spans received: ${JSON.stringify(this.spans, null, 1)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

type OtlpJson = {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: { spans?: { name: string; traceId: string; spanId: string; parentSpanId?: string }[] }[];
  }[];
};

function spansOf(body: string): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of (JSON.parse(body) as OtlpJson).resourceSpans ?? []) {
    const service = rs.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue ?? "";
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({ service, name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? "" });
  }
  return out;
}
