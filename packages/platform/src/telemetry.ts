import {
  context,
  propagation,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import type { MsgHdrs } from "@nats-io/transport-node";
import type { Metadata } from "@grpc/grpc-js";

export type TraceExporterKind = "none" | "console" | "memory" | "otlp";

/** Where and how much a service traces (config's `tracing`, `otlpEndpoint`, ...). */
export interface TracingSettings {
  readonly exporter: TraceExporterKind;
  /** OTLP/HTTP traces URL of a collector (Tempo, Jaeger, the OpenTelemetry Collector). */
  readonly otlpEndpoint?: string;
  /**
   * Share of traces started here (requests that carry no trace context) that are sampled,
   * 0..1. Requests that carry one follow their parent's decision.
   */
  readonly sampleRatio?: number;
  /** Extra resource attributes (e.g. `deployment.environment`, `k8s.pod.name`). */
  readonly resourceAttributes?: Readonly<Record<string, string>>;
}

/** Default OTLP/HTTP endpoint: a collector beside the pod (the OpenTelemetry convention). */
export const DEFAULT_OTLP_ENDPOINT = "http://localhost:4318/v1/traces";

export interface Telemetry {
  readonly tracer: Tracer;
  /** Spans kept in memory when the exporter is "memory" (tests). */
  readonly memory: InMemorySpanExporter | undefined;
  /** Whether requests that carry no trace context start a trace here (sample ratio above 0). */
  readonly startsTraces: boolean;
  shutdown(): Promise<void>;
}

/**
 * Registers a global tracer provider, the AsyncLocalStorage context manager and the
 * W3C trace-context propagator, so the context of an order travels through gRPC
 * metadata and NATS headers. Exporting to a collector is a deployment concern: with
 * "none", spans still carry ids and propagate, at the cost of no export.
 */
export function initTelemetry(service: string, settings: TraceExporterKind | TracingSettings = "none"): Telemetry {
  const { exporter, otlpEndpoint, sampleRatio, resourceAttributes } =
    typeof settings === "string" ? ({ exporter: settings } as TracingSettings) : settings;
  const memory = exporter === "memory" ? new InMemorySpanExporter() : undefined;
  const processors: SpanProcessor[] = [];
  const chosen: SpanExporter | undefined =
    exporter === "console"
      ? new ConsoleSpanExporter()
      : exporter === "otlp"
        ? new OTLPTraceExporter({ url: otlpEndpoint ?? DEFAULT_OTLP_ENDPOINT })
        : memory;
  if (chosen !== undefined)
    processors.push(
      exporter === "memory"
        ? new SimpleSpanProcessor({ exporter: chosen })
        : new BatchSpanProcessor({ exporter: chosen }),
    );
  const ratio = sampleRatio ?? (exporter === "none" ? 0 : 1);
  const provider = new TracerProvider({
    spanProcessors: processors,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    resource: resourceFromAttributes({ "service.name": service, ...resourceAttributes }),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: trace.getTracer(service),
    memory,
    startsTraces: ratio > 0 && exporter !== "none",
    shutdown: () => provider.shutdown(),
  };
}

const natsSetter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

const natsGetter: TextMapGetter<MsgHdrs> = {
  keys: (carrier) => carrier.keys(),
  get: (carrier, key) => (carrier.has(key) ? carrier.get(key) : undefined),
};

/** Writes the active (or given) trace context into NATS message headers. */
export function injectTraceHeaders(headers: MsgHdrs, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, natsSetter);
}

/** The W3C traceparent of a context (what a batched command carries); empty when it has no span. */
export function traceparentOf(ctx: Context = context.active()): string {
  // The common case on the order path: nothing traced, nothing to build.
  if (trace.getSpan(ctx) === undefined) return "";
  const carrier: { traceparent?: string } = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ?? "";
}

/** The context a command's traceparent names; the active context when it is empty. */
export function contextOfTraceparent(traceparent: string): Context {
  if (traceparent === "") return context.active();
  return propagation.extract(context.active(), { traceparent });
}

/** Reads a trace context from NATS message headers; the root context when absent. */
export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  if (headers === undefined) return context.active();
  return propagation.extract(context.active(), headers, natsGetter);
}

const grpcGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

/** The trace context a gRPC client sent in its metadata (W3C traceparent), or the active one. */
export function extractGrpcContext(metadata: Metadata): Context {
  return propagation.extract(context.active(), metadata, grpcGetter);
}

/** A service config's tracing fields (serviceEndpointsSchema) as the settings initTelemetry takes. */
export function tracingSettingsOf(config: {
  readonly tracing: TraceExporterKind;
  readonly otlpEndpoint?: string;
  readonly traceSampleRatio?: number;
  readonly traceResourceAttributes?: Readonly<Record<string, string>>;
}): TracingSettings {
  return {
    exporter: config.tracing,
    otlpEndpoint: config.otlpEndpoint,
    sampleRatio: config.traceSampleRatio,
    resourceAttributes: config.traceResourceAttributes,
  };
}
