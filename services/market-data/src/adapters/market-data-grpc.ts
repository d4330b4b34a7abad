import { status as GrpcStatus, type ServerWritableStream, type ServiceDefinition } from "@grpc/grpc-js";
import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import {
  MarketDataService,
  SubscribeResponse,
  type GetBarsResponse,
  type GetSnapshotResponse,
  type GetTradesResponse,
  type Instrument,
  type ListInstrumentsResponse,
  type MarketDataServer,
  type SubscribeRequest,
} from "@tradeplane/contracts";
import { malformedRequest, unaryHandler, ValidationError, type Logger } from "@tradeplane/platform";
import { barMessage } from "../domain/bars.ts";
import type { MarketState } from "../domain/market-state.ts";
import {
  isProblem,
  validateBars,
  validateSnapshot,
  validateSubscribe,
  validateTrades,
  type Problem,
} from "../domain/requests.ts";
import type { Hub } from "./hub.ts";
import type { Outgoing } from "./subscriber.ts";

export interface MarketDataGrpcDeps {
  readonly state: MarketState;
  readonly hub: Hub;
  /** Reference data of the listed instruments, ascending by symbol (state filled per call). */
  readonly instruments: readonly Instrument[];
  readonly tracer: Tracer;
  readonly logger: Logger;
  /** Updates per subscriber handed to the transport and not yet written out. */
  readonly maxInFlight: number;
  /** L2 levels per side when a request says 0. */
  readonly defaultDepth: number;
}

function invalid(p: Problem): ValidationError {
  return new ValidationError(`${p.field}: ${p.message}`, [{ path: p.field, message: p.message }]);
}

/**
 * The MarketData service definition, with a response serializer that passes already encoded
 * updates through: an update going to many subscribers is encoded once.
 */
export const marketDataDefinition: ServiceDefinition = {
  ...MarketDataService,
  subscribe: {
    ...MarketDataService.subscribe,
    responseSerialize: (value: SubscribeResponse | Buffer) =>
      Buffer.isBuffer(value) ? value : Buffer.from(SubscribeResponse.encode(value).finish()),
  },
};

/** MarketData over gRPC: Subscribe streams through the hub, the rest reads the market state. */
export function marketDataService(deps: MarketDataGrpcDeps): MarketDataServer {
  const { state, hub, logger } = deps;
  const known = (s: string): boolean => state.instruments.has(s);
  return {
    listInstruments: unaryHandler(logger, (): ListInstrumentsResponse => ({
      instruments: deps.instruments.map((i) => ({ ...i, state: state.instruments.get(i.symbol)?.state ?? i.state })),
    })),
    getSnapshot: unaryHandler(logger, (req): GetSnapshotResponse => {
      const v = validateSnapshot(req, known, deps.defaultDepth);
      if (isProblem(v)) throw invalid(v);
      return deps.tracer.startActiveSpan("market-data.GetSnapshot", (span) => {
        try {
          const m = state.instruments.get(v.instrument)!;
          span.setAttributes({ instrument: v.instrument, depth: v.depth, source_sequence: state.position });
          return {
            instrument: v.instrument,
            sourceSequence: state.position,
            time: m.lastTime,
            status: m.statusMessage(),
            topOfBook: m.topOfBook(),
            book: m.bookSnapshot(v.depth),
            orderBook: v.includeOrders ? m.orderBookSnapshot() : undefined,
            stats: m.statsMessage(),
          };
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      });
    }),
    getTrades: unaryHandler(logger, (req): GetTradesResponse => {
      const v = validateTrades(req, known);
      if (isProblem(v)) throw invalid(v);
      return { trades: state.instruments.get(v.instrument)!.tradesFrom(v.fromTradeId, v.limit) };
    }),
    getBars: unaryHandler(logger, (req): GetBarsResponse => {
      const v = validateBars(req, known);
      if (isProblem(v)) throw invalid(v);
      const series = state.instruments.get(v.instrument)!.bars.get(v.interval)!;
      return { bars: series.range(v.fromS, v.toS, v.limit).map((b) => barMessage(v.interval, b)) };
    }),
    subscribe: (call: ServerWritableStream<SubscribeRequest, SubscribeResponse>) => {
      const fail = (code: GrpcStatus, message: string): void => {
        call.emit("error", Object.assign(new Error(message), { code, details: message }));
      };
      const malformed = malformedRequest(call.request);
      if (malformed !== undefined) return fail(GrpcStatus.INVALID_ARGUMENT, malformed);
      const v = validateSubscribe(call.request, known, deps.defaultDepth);
      if (isProblem(v)) return fail(GrpcStatus.INVALID_ARGUMENT, `${v.field}: ${v.message}`);
      let ended = false;
      // Back-pressure at the source: at most maxInFlight updates handed to grpc-js and not yet
      // written out by HTTP/2. grpc-js's own signal (write() returning false) comes only after
      // 16 messages and a 16 KB stream buffer are full, a standing queue of seconds for a busy
      // subscriber; this keeps the queue in the subscriber's slots, where updates conflate.
      let inFlight = 0;
      let resume: (() => void) | undefined;
      const written = (): void => {
        inFlight--;
        if (resume !== undefined && inFlight < deps.maxInFlight) {
          const r = resume;
          resume = undefined;
          r();
        }
      };
      const sub = hub.subscribe(
        {
          write: (out: Outgoing) => {
            inFlight++;
            const more = call.write(
              (out.bytes ??= Buffer.from(SubscribeResponse.encode(out.msg).finish())) as never,
              written,
            );
            return more && inFlight < deps.maxInFlight;
          },
          onDrain: (r) => {
            if (inFlight < deps.maxInFlight) call.once("drain", r);
            else resume = r;
          },
          fail: (_code, message) => {
            ended = true;
            fail(GrpcStatus.RESOURCE_EXHAUSTED, message);
          },
        },
        v,
        "grpc",
      );
      const end = (): void => {
        if (!ended) ended = true;
        hub.unsubscribe(sub);
      };
      call.on("cancelled", end);
      call.on("close", end);
      call.on("error", end);
    },
  };
}
