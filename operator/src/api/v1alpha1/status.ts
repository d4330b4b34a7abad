import { z } from "zod";
import { listMap } from "./kube-schema.ts";

/**
 * Status of both resources, written by the operator through the status subresource and
 * read by `kubectl get` (printer columns), `tradeplane status` and users' automation. The
 * same zod definitions generate the CRDs' status schema, so what the operator writes is what
 * the API server accepts. Money and sequences are integers (int64), never floats.
 */

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const int = (min: number, max = MAX_SAFE) => z.number().int().min(min).max(max);

/** A condition as metav1.Condition defines it, with the same bounds. */
export const conditionSchema = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/)
      .describe("What the condition is about, in CamelCase: Ready, StreamsReady, EngineReady, Bound, ..."),
    status: z.enum(["True", "False", "Unknown"]).describe("Whether the condition holds: True, False or Unknown"),
    observedGeneration: int(0)
      .optional()
      .describe("The metadata.generation of the spec this condition was computed from"),
    lastTransitionTime: z.iso.datetime().describe("When the status last changed (RFC 3339)"),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe("Why, as one CamelCase word a program can act on"),
    message: z.string().max(32_768).describe("Why, for people: what happened and what to do"),
  })
  .strict()
  .describe("One observation of the resource's state");

export type Condition = z.infer<typeof conditionSchema>;

const conditions = z
  .array(conditionSchema)
  .max(32)
  .meta(listMap("type"))
  .describe("The latest observations, one per type");

export const venuePhases = ["Pending", "Provisioning", "Running", "Degraded", "Failed"] as const;

/** Condition types of a TradingVenue; Ready sums up the others. */
export const CONDITION_TYPES = [
  "StreamsReady",
  "EngineReady",
  "RiskReady",
  "MarketDataReady",
  "CpuPinned",
  "Ready",
] as const;

export const partitionStatusSchema = z
  .object({
    partition: int(0, 1023).describe("Engine partition number"),
    appliedSequence: int(0)
      .optional()
      .describe(
        "Command log sequence of the last entry the partition's primary applied, as its last published event shows (see sequencesUpdateTime for how fresh)",
      ),
    ready: z.boolean().optional().describe("Whether the partition's primary is ready to match"),
    primary: z.string().max(253).optional().describe("Pod that is the partition's primary (holds its lease)"),
    standby: z
      .string()
      .max(253)
      .optional()
      .describe("A ready engine pod of the partition other than the primary: the hot standby"),
    cpusAllowed: z
      .string()
      .max(1024)
      .optional()
      .describe("The CPUs the engine may run on, as /proc/self/status Cpus_allowed_list reports them"),
  })
  .strict()
  .describe("One engine partition");

export const tradingVenueStatusSchema = z
  .object({
    phase: z.enum(venuePhases).optional().describe("Pending, Provisioning, Running, Degraded or Failed"),
    observedGeneration: int(0).optional().describe("The metadata.generation the operator last acted on"),
    conditions: conditions.optional(),
    partitions: z
      .array(partitionStatusSchema)
      .max(1024)
      .meta(listMap("partition"))
      .optional()
      .describe("Each engine partition's state"),
    partitionsReady: z
      .string()
      .max(16)
      .regex(/^[0-9]+\/[0-9]+$/)
      .optional()
      .describe('Ready engine partitions out of all, e.g. "2/2"'),
    lastCommandSequence: int(0)
      .optional()
      .describe("Last sequence of the venue's command log; refreshed like the partitions' appliedSequence"),
    sequencesUpdateTime: z.iso
      .datetime()
      .optional()
      .describe(
        "When lastCommandSequence and the partitions' appliedSequence were last written (RFC 3339). While the venue trades they are written at most once per the operator's --sequence-status-seconds (30 by default); an idle venue's status is not written",
      ),
    endpoints: z
      .object({
        orderEntry: z.string().max(512).optional().describe("gRPC address of order entry (host:port)"),
        marketData: z.string().max(512).optional().describe("gRPC address of market data (host:port)"),
        marketDataWs: z.string().max(512).optional().describe("WebSocket URL of market data"),
      })
      .strict()
      .optional()
      .describe("Where clients connect"),
  })
  .strict()
  .describe("State of the venue, as the operator last observed it");

export type TradingVenueStatus = z.infer<typeof tradingVenueStatusSchema>;

export const strategyPhases = ["Pending", "Running", "Paused", "Degraded", "Failed"] as const;

/** Condition types of a StrategyDeployment. */
export const STRATEGY_CONDITION_TYPES = ["Bound", "VenueReady", "PositionsCurrent", "Ready"] as const;

const money = (what: string) => int(-MAX_SAFE).describe(`${what}, in 10^notionalExponent of the venue's currency`);

export const strategyPositionSchema = z
  .object({
    symbol: z.string().max(32).describe("Instrument"),
    position: int(-MAX_SAFE).describe("Net position in lots: positive long, negative short"),
    realisedPnl: money("Realised profit and loss").optional(),
    unrealisedPnl: money("Unrealised profit and loss at the last trade price").optional(),
  })
  .strict()
  .describe("The account's position in one instrument");

export const strategyDeploymentStatusSchema = z
  .object({
    phase: z.enum(strategyPhases).optional().describe("Pending, Running, Paused, Degraded or Failed"),
    observedGeneration: int(0).optional().describe("The metadata.generation the operator last acted on"),
    conditions: conditions.optional(),
    positions: z
      .array(strategyPositionSchema)
      .max(1_000)
      .meta(listMap("symbol"))
      .optional()
      .describe("Positions by instrument, as last read from the risk gateway (PositionsCurrent=False: stale)"),
    grossPosition: int(0).optional().describe("Sum of the absolute positions over all instruments, in lots"),
    pnl: z
      .object({
        realised: money("Realised profit and loss").optional(),
        unrealised: money("Unrealised profit and loss").optional(),
        total: money("Realised plus unrealised").optional(),
      })
      .strict()
      .optional()
      .describe("Profit and loss of the account over all instruments"),
    ordersPerSecond: int(0).optional().describe("Orders sent per second, averaged over the last minute"),
  })
  .strict()
  .describe("State of the strategy, as the operator last observed it");

export type StrategyDeploymentStatus = z.infer<typeof strategyDeploymentStatusSchema>;
