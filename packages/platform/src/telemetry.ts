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
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import type { MsgHdrs } from "@nats-io/transport-node";
import type { Metadata } from "@grpc/grpc-js";

export type TraceExporterKind = "none" | "console" | "memory";

export interface Telemetry {
  readonly tracer: Tracer;
  /** Spans kept in memory when the exporter is "memory" (tests). */
  readonly memory: InMemorySpanExporter | undefined;
  shutdown(): Promise<void>;
}

/**
 * Registers a global tracer provider, the AsyncLocalStorage context manager and the
 * W3C trace-context propagator, so the context of an order travels through gRPC
 * metadata and NATS headers. Exporting to a collector is a deployment concern: with
 * "none", spans still carry ids and propagate, at the cost of no export.
 */
export function initTelemetry(service: string, exporter: TraceExporterKind = "none"): Telemetry {
  const memory = exporter === "memory" ? new InMemorySpanExporter() : undefined;
  const processors: SpanProcessor[] = [];
  const chosen: SpanExporter | undefined = exporter === "console" ? new ConsoleSpanExporter() : memory;
  if (chosen !== undefined)
    processors.push(
      exporter === "memory"
        ? new SimpleSpanProcessor({ exporter: chosen })
        : new BatchSpanProcessor({ exporter: chosen }),
    );
  const provider = new TracerProvider({ spanProcessors: processors });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: trace.getTracer(service),
    memory,
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
