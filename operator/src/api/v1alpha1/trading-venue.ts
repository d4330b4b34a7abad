import { z } from "zod";
import { INSTRUMENT_SYMBOL_MAX_LENGTH, INSTRUMENT_SYMBOL_PATTERN } from "@tradeplane/contracts";
import { DECIMAL_MAX_DIGITS, DECIMAL_PATTERN, isPositiveDecimal, parseDecimal, productInUnits } from "./decimal.ts";
import { immutable, listMap, validations } from "./kube-schema.ts";
import { API_VERSION, objectMetaSchema } from "@tradeplane/strategy-api/object-meta";
import {
  deletionPolicies,
  enginePlacementSchema,
  imagesSchema,
  maintenanceSchema,
  natsConnectionSchema,
} from "./venue-operations.ts";
import { calendarSchema, journalSchema } from "./venue-journal.ts";

/**
 * The TradingVenue custom resource (tradeplane.io/v1alpha1), defined once. The operator
 * generates its CRD schema from this (see schema.ts), local mode validates manifests with it,
 * and both turn a parsed spec into service configuration with desired/service-configs.ts.
 *
 * Units follow the wire contracts (proto/tradeplane/v1/common.proto): prices are integer
 * counts of the instrument's price unit (`priceUnit`, e.g. 0.01 INR), quantities integer
 * counts of lots, money integer counts of 10^notionalExponent of the currency (paise at -2).
 *
 * Every rule is said twice, side by side: in zod for local mode and the operator, and in
 * CEL (`validations(...)`) for the API server; operator/test/integration proves each CEL
 * rule refuses what the zod rule refuses.
 */

// Shared with StrategyDeployment's schema, in the package the strategy runtime imports.
export { API_GROUP, API_VERSION, objectMetaSchema } from "@tradeplane/strategy-api/object-meta";

/** NSE equity tick sizes by price from April 2025, in paise (price unit 0.01 INR). */
export const NSE_TICK_SCHEDULE = [
  { fromPrice: 0, tickSize: 1 },
  { fromPrice: 25_000, tickSize: 5 },
  { fromPrice: 100_000, tickSize: 10 },
  { fromPrice: 500_000, tickSize: 50 },
  { fromPrice: 1_000_000, tickSize: 100 },
  { fromPrice: 2_000_000, tickSize: 500 },
] as const;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** An IPv4 or IPv6 CIDR, as a Service's loadBalancerSourceRanges takes it. */
const CIDR_PATTERN = /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9a-fA-F:]+)\/[0-9]{1,3}$/;
const int = (min: number, max = MAX_SAFE) => z.number().int().min(min).max(max);

/** Most instruments in one venue: the API server refuses a CRD whose CEL rules could cost
 * more than its budget, and every rule over the instruments costs in proportion to this. */
export const MAX_INSTRUMENTS = 1_000;
/** Most engine partitions of a venue (each is a StatefulSet of pods with whole pinned CPUs);
 * the CEL rule that partitions have no gaps costs this times the instruments. */
export const MAX_PARTITIONS = 64;
/** Most bands in an explicit tick schedule. */
export const MAX_TICK_BANDS = 32;

const DECIMAL_MESSAGE = 'must be a positive decimal in plain notation with at most 18 digits, e.g. "0.05"';
const decimalText = (what: string) =>
  z
    .string()
    .max(DECIMAL_MAX_DIGITS + 1)
    .regex(DECIMAL_PATTERN, DECIMAL_MESSAGE)
    .refine(isPositiveDecimal, `${DECIMAL_MESSAGE} (${what})`)
    .meta(
      validations(
        { rule: "self.matches('[1-9]')", message: "must be positive" },
        { rule: `self.contains('.') || self.size() <= ${DECIMAL_MAX_DIGITS}`, message: "must have at most 18 digits" },
      ),
    );

/** Kubernetes-style quantity of memory, e.g. "2Gi". */
const memoryQuantity = z
  .string()
  .regex(/^[1-9][0-9]*(Ki|Mi|Gi|Ti|K|M|G|T)?$/, 'must be a memory quantity such as "2Gi" or "512Mi"');

/** A duration such as "30s", "15m", "12h", "7d". */
export const durationText = z
  .string()
  .regex(/^[1-9][0-9]*(s|m|h|d)$/, 'must be a duration such as "90s", "15m", "12h" or "7d"');

export function durationSeconds(text: string): number {
  const n = Number(text.slice(0, -1));
  const unit = text.at(-1);
  return n * (unit === "s" ? 1 : unit === "m" ? 60 : unit === "h" ? 3_600 : 86_400);
}

export const tickBandSchema = z
  .object({
    fromPrice: int(0).describe("Lowest price of the band, in price units"),
    tickSize: int(1, 2 ** 31 - 1).describe("Prices in the band must be a multiple of this many price units"),
  })
  .strict()
  .describe("Prices from fromPrice up to the next band's fromPrice move in steps of tickSize");

export const tickPresets = ["NSE"] as const;

/** The tick size at `price` of NSE_TICK_SCHEDULE, as a CEL expression. */
function nseTickCel(price: string): string {
  return [...NSE_TICK_SCHEDULE]
    .reverse()
    .reduce(
      (rest, band) => (band.fromPrice === 0 ? rest : `${price} >= ${band.fromPrice} ? ${band.tickSize} : ${rest}`),
      "1",
    );
}

// The band that holds a price is the last one starting at or below it (bands ascend, which
// another rule checks). The bands below the price are bound to B through a one-item list
// (CRD rules have no cel.bind), so the list is read once.
const ON_TICK_CEL = [
  "has(self.tickSize) ? self.referencePrice % self.tickSize == 0",
  ": has(self.tickSchedule) ? [self.tickSchedule.filter(b, b.fromPrice <= self.referencePrice)]",
  ".all(B, size(B) == 0 || self.referencePrice % B[size(B) - 1].tickSize == 0)",
  `: self.referencePrice % (${nseTickCel("self.referencePrice")}) == 0`,
].join(" ");

export const instrumentStates = ["PRE_OPEN", "CONTINUOUS", "HALTED", "CLOSED"] as const;

export const instrumentSpecSchema = z
  .object({
    symbol: z
      .string()
      .max(INSTRUMENT_SYMBOL_MAX_LENGTH, "must be 1..32 characters of [A-Za-z0-9_-], starting with a letter or digit")
      .regex(INSTRUMENT_SYMBOL_PATTERN, "must be 1..32 characters of [A-Za-z0-9_-], starting with a letter or digit")
      .describe("Ticker, unique in the venue; also a NATS subject token"),
    description: z.string().max(200).optional().describe("Free text for people"),
    partition: int(0, MAX_PARTITIONS - 1)
      .default(0)
      .describe("Engine partition that trades the instrument; partitions are numbered from 0 without gaps"),
    priceUnit: decimalText("currency per lot at price 1")
      .default("0.01")
      .describe("Value of price 1 in the currency per share (0.01 = one paisa): prices are integers of this"),
    tickSize: int(1, 2 ** 31 - 1)
      .optional()
      .describe("Fixed tick in price units; give at most one of tickSize, tickPreset and tickSchedule (none: NSE)"),
    tickPreset: z
      .enum(tickPresets)
      .optional()
      .describe("A named tick schedule: NSE (equities from April 2025, the default when no tick is given)"),
    tickSchedule: z
      .array(tickBandSchema)
      .min(1)
      .max(MAX_TICK_BANDS)
      .optional()
      .meta({
        ...listMap("fromPrice"),
        ...validations(
          { rule: "self[0].fromPrice == 0", message: "the first band must start at fromPrice 0" },
          { rule: "self.map(b, b.fromPrice).isSorted()", message: "bands must ascend by fromPrice" },
        ),
      })
      .describe("Tick size by price: explicit bands, the first starting at price 0, ascending by fromPrice"),
    lotSize: decimalText("shares per lot").default("1").describe("Shares (base units) in one lot"),
    qtyIncrement: int(1, 2 ** 31 - 1)
      .default(1)
      .describe("Order quantities must be a multiple of this many lots"),
    minQty: int(1).default(1).describe("Smallest order in lots"),
    maxQty: int(1).default(1_000_000_000).describe("Largest order in lots"),
    maxOrderValue: int(0).default(0).describe("Largest order value in notional units (0 = no limit)"),
    referencePrice: int(1).describe("Previous close in price units: centre of the price band"),
    priceBandPercent: int(0, 100)
      .default(10)
      .describe("Static price band around the reference price, whole percent (NSE: 2, 5, 10, 20); 0 = none"),
    initialState: z.enum(instrumentStates).default("CONTINUOUS").describe("Trading state on a fresh log"),
    cancelOnHalt: z.boolean().default(false).describe("Cancel resting orders when the instrument is halted"),
  })
  .strict()
  .meta(
    validations(
      {
        rule: "[has(self.tickSize), has(self.tickPreset), has(self.tickSchedule)].filter(x, x).size() <= 1",
        message: "give at most one of tickSize, tickPreset and tickSchedule",
        fieldPath: ".tickSize",
      },
      { rule: ON_TICK_CEL, message: "must be a multiple of the tick size at that price", fieldPath: ".referencePrice" },
      { rule: "self.minQty <= self.maxQty", message: "must not exceed maxQty", fieldPath: ".minQty" },
    ),
  )
  .describe("One instrument: its symbol, units, tick sizes, order size limits and price band");

const riskLimitsSchema = z
  .object({
    maxOrderQty: int(0).optional().describe("Largest order quantity in lots"),
    maxOrderNotional: int(0).optional().describe("Largest order value in notional units"),
    priceCollarBps: int(0, 100_000).optional().describe("Largest distance of a limit price from the reference, bps"),
    maxPosition: int(0).optional().describe("Largest position per instrument in lots"),
    creditLimit: int(0).optional().describe("Largest credit use in notional units"),
    maxOrdersPerSecond: int(0, 1_000_000).optional().describe("Largest request rate per account"),
  })
  .strict();

const WHOLE_MONEY_MESSAGE = "priceUnit x lotSize must be a whole number of 10^notionalExponent currency units";

/** Fraction digits of a plain decimal (CEL). */
const fractionDigitsCel = (d: string) => `(${d}.contains('.') ? ${d}.size() - ${d}.indexOf('.') - 1 : 0)`;

// priceUnit x lotSize = (m1 x m2) x 10^-(f1 + f2): a whole number of 10^e units when the
// product of the digits is a multiple of 10^(f1 + f2 + e). With at most 18 digits each the
// product can overflow int64 only for decimals no venue trades; CEL refuses those too.
const EXCESS_DIGITS = `(${fractionDigitsCel("i.priceUnit")} + ${fractionDigitsCel("i.lotSize")} + self.market.notionalExponent)`;
const WHOLE_MONEY_CEL =
  `self.instruments.all(i, ${EXCESS_DIGITS} <= 0 || (${EXCESS_DIGITS} <= 18 && ` +
  "(int(i.priceUnit.replace('.', '')) * int(i.lotSize.replace('.', ''))) % " +
  `[${Array.from({ length: 19 }, (_, k) => `${10n ** BigInt(k)}`).join(", ")}][${EXCESS_DIGITS}] == 0))`;

const venueSpecObject = z
  .object({
    market: z
      .object({
        currency: z
          .string()
          .max(10)
          .regex(/^[A-Z0-9]{2,10}$/, "must be an ISO 4217 or asset code such as INR")
          .default("INR")
          .describe("Currency of prices and money"),
        notionalExponent: int(-18, 0)
          .default(-2)
          .describe("Money is counted in 10^notionalExponent of the currency (-2 = paise)"),
      })
      .strict()
      .prefault({})
      .meta(immutable("market", "prices and money already in the command log are counted in these units"))
      .describe("Currency and money units of the venue (immutable)"),
    instruments: z
      .array(instrumentSpecSchema)
      .min(1)
      .max(MAX_INSTRUMENTS)
      .meta(listMap("symbol"))
      .describe("Instruments traded on the venue, unique by symbol"),
    engine: z
      .object({
        cpus: int(1, 64).default(1).describe("Whole CPUs pinned to each engine pod (Guaranteed QoS)"),
        memory: memoryQuantity.default("2Gi").describe("Memory of each engine pod"),
        standby: z.boolean().default(false).describe("Run a hot standby per partition that takes over by lease"),
        snapshotEveryCommands: int(0, 1e9).default(100_000).describe("Snapshot after this many commands; 0 = never"),
        snapshotEverySeconds: int(0, 86_400).default(60).describe("Snapshot at least this often; 0 = never"),
        maxOrders: int(1_024, 1 << 26)
          .optional()
          .describe("Capacity of each partition's order table"),
        placement: enginePlacementSchema.optional().describe("Where engine pods may run"),
      })
      .strict()
      .prefault({})
      .describe("Matching engine settings (one engine per partition)"),
    risk: z
      .object({
        replicas: int(1, 32).default(1).describe("Risk gateway replicas"),
        defaults: riskLimitsSchema.prefault({}).describe("Venue-wide default limits; accounts override them"),
        commandTimeoutMs: int(100, 60_000).default(5_000).describe("How long an order call waits for the engine"),
        peerTlsSecret: z
          .string()
          .max(253)
          .optional()
          .describe(
            "Secret (tls.crt, tls.key, ca.crt, e.g. cert-manager's) for mutual TLS between risk replicas: the certificate names <venue>-risk-peer and is for server and client auth; without it GatewayPeer is plaintext",
          ),
      })
      .strict()
      .prefault({})
      .describe("Pre-trade risk gateway settings"),
    marketData: z
      .object({
        replicas: int(1, 32).default(1).describe("Market-data replicas (each reads the event log)"),
        depth: int(1, 500).default(10).describe("Default L2 depth"),
      })
      .strict()
      .prefault({})
      .describe("Market-data service settings"),
    fix: z
      .object({
        enabled: z.boolean().default(false).describe("Run the FIX 4.4 gateway in front of the risk gateway"),
        senderCompId: z
          .string()
          .regex(/^[\x21-\x7e]{1,64}$/, "must be 1..64 printable ASCII characters")
          .default("TRADEPLANE")
          .describe("The gateway's CompID: the clients' TargetCompID"),
        sessions: z
          .array(
            z
              .object({
                id: z
                  .string()
                  .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1..64 characters of [A-Za-z0-9_-]")
                  .describe("Name of the session in logs, metrics and the sequence store"),
                targetCompId: z
                  .string()
                  .regex(/^[\x21-\x7e]{1,64}$/, "must be 1..64 printable ASCII characters")
                  .describe("The client's SenderCompID"),
                account: z.string().min(1).max(64).describe("Account the session trades (its token is a Secret)"),
                cancelOnDisconnect: z
                  .boolean()
                  .default(false)
                  .describe("Cancel the orders this session entered when it disconnects"),
                maxMessagesPerSecond: int(0, 1_000_000)
                  .default(0)
                  .describe("Application messages per second the session may send; 0 = no limit"),
              })
              .strict()
              .describe("One FIX session: the client's CompID, the account it trades and its limits"),
          )
          .max(1_000)
          .default([])
          .refine((list) => new Set(list.map((s) => s.id)).size === list.length, "session ids must be unique")
          .meta(listMap("id"))
          .describe("FIX sessions: CompID pairs mapped to accounts, unique by id"),
        service: z
          .object({
            type: z
              .enum(["ClusterIP", "NodePort", "LoadBalancer"])
              .default("ClusterIP")
              .describe("Type of the Service in front of the FIX port: LoadBalancer for clients outside the cluster"),
            annotations: z
              .record(z.string().max(253), z.string().max(4096).describe("Annotation value"))
              .optional()
              .describe("Annotations of that Service, e.g. a cloud load balancer's (internal, TLS passthrough)"),
            loadBalancerSourceRanges: z
              .array(z.string().regex(CIDR_PATTERN, "must be a CIDR such as 203.0.113.0/24").describe("A CIDR"))
              .max(100)
              .optional()
              .describe("Client networks a LoadBalancer accepts (CIDRs); default: any"),
          })
          .strict()
          .prefault({})
          .describe("How FIX clients reach the gateway"),
      })
      .strict()
      .prefault({})
      .refine((fix) => !fix.enabled || fix.sessions.length > 0, {
        message: "an enabled FIX gateway needs at least one session",
        path: ["sessions"],
      })
      .meta(
        validations({
          rule: "!has(self.enabled) || !self.enabled || (has(self.sessions) && size(self.sessions) > 0)",
          message: "an enabled FIX gateway needs at least one session",
          fieldPath: ".sessions",
        }),
      )
      .describe("FIX 4.4 gateway (see docs/fix.md and docs/operator.md)"),
    streams: z
      .object({
        replicas: z
          .union([z.literal(1), z.literal(3), z.literal(5)])
          .default(1)
          .describe("JetStream replicas of the venue's streams (3 in production)"),
        storage: z
          .enum(["file", "memory"])
          .default("file")
          .meta(immutable("storage", "JetStream cannot change the storage type of an existing stream"))
          .describe("JetStream storage of the streams (immutable)"),
        commandMaxAge: durationText.optional().describe("Keep commands this long (default: forever)"),
        eventMaxAge: durationText.default("7d").describe("Keep engine events this long"),
      })
      .strict()
      .prefault({})
      .describe("The venue's JetStream streams and buckets, provisioned by the operator"),
    calendar: calendarSchema.prefault({}),
    journal: journalSchema.prefault({}),
    nats: natsConnectionSchema.prefault({}).describe("How the venue's pods reach NATS"),
    images: imagesSchema.prefault({}).describe("Container images (default: the operator's)"),
    maintenance: maintenanceSchema.prefault({}).describe("When the operator may restart engine pods to apply a change"),
    deletionPolicy: z
      .enum(deletionPolicies)
      .default("Retain")
      .describe("What happens to the venue's streams and buckets when it is deleted: Retain or Delete"),
    observability: z
      .object({
        logLevel: z.enum(["error", "warn", "info", "debug"]).default("info").describe("Log level of every service"),
        tracing: z
          .enum(["none", "console", "otlp"])
          .default("none")
          .describe("Trace exporter of every service: none, console, or otlp (OTLP/HTTP to otlpEndpoint)"),
        otlpEndpoint: z
          .url({ protocol: /^https?$/ })
          .max(2048)
          .optional()
          .describe("OTLP/HTTP traces URL of a collector (default http://localhost:4318/v1/traces)"),
        traceSampleBps: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .optional()
          .describe(
            "Share of requests without a trace context that start a trace, in basis points (10000 = all, the default when tracing); requests with one follow it",
          ),
        resourceAttributes: z
          .record(z.string().min(1).max(256), z.string().max(1024).describe("Attribute value"))
          .optional()
          .describe(
            'OpenTelemetry resource attributes every service puts on its spans, e.g. {"deployment.environment": "prod"}',
          ),
      })
      .strict()
      .prefault({})
      .describe("Logs and traces"),
  })
  .strict()
  .meta(
    validations(
      {
        // Each read of self.instruments converts the whole list, so the rule reads it once,
        // bound to L by a one-item list (CRD rules have no cel.bind); a rule that read it per
        // instrument took 30 s at 1,000 instruments.
        rule:
          "[self.instruments.map(i, i.partition)].all(L, " +
          `lists.range(${MAX_PARTITIONS - 1}).all(p, !(p + 1 in L) || p in L))`,
        message: "partitions must be numbered 0..n-1 without gaps",
        fieldPath: ".instruments",
      },
      { rule: WHOLE_MONEY_CEL, message: WHOLE_MONEY_MESSAGE, fieldPath: ".instruments" },
    ),
  )
  .describe("Desired state of the venue");

export const tradingVenueSpecSchema = venueSpecObject.superRefine(checkInstruments);

/** Rules across fields and instruments, on the parsed spec (defaults applied). */
function checkInstruments(spec: z.output<typeof venueSpecObject>, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  const partitions = new Set<number>();
  spec.instruments.forEach((i, n) => {
    const at = (field: string) => ["instruments", n, field];
    const first = seen.get(i.symbol);
    if (first !== undefined)
      ctx.addIssue({ code: "custom", path: at("symbol"), message: `duplicates instruments[${first}].symbol` });
    seen.set(i.symbol, n);
    partitions.add(i.partition);
    if ([i.tickSize, i.tickPreset, i.tickSchedule].filter((t) => t !== undefined).length > 1)
      ctx.addIssue({
        code: "custom",
        path: at("tickSize"),
        message: "give at most one of tickSize, tickPreset and tickSchedule",
      });
    const schedule = tickScheduleOf(i);
    if (schedule[0]?.fromPrice !== 0)
      ctx.addIssue({ code: "custom", path: at("tickSchedule"), message: "the first band must start at fromPrice 0" });
    for (let b = 1; b < schedule.length; b++)
      if (schedule[b]!.fromPrice <= schedule[b - 1]!.fromPrice)
        ctx.addIssue({ code: "custom", path: at("tickSchedule"), message: "bands must ascend by fromPrice" });
    const tick = tickAt(schedule, i.referencePrice);
    if (tick !== undefined && i.referencePrice % tick !== 0)
      ctx.addIssue({
        code: "custom",
        path: at("referencePrice"),
        message: `must be a multiple of the tick size ${tick} at that price`,
      });
    if (i.minQty > i.maxQty) ctx.addIssue({ code: "custom", path: at("minQty"), message: "must not exceed maxQty" });
    // Refinements also run when a field failed: only judge what parsed.
    if (isPositiveDecimal(i.priceUnit) && isPositiveDecimal(i.lotSize)) {
      const units = productInUnits(parseDecimal(i.priceUnit), parseDecimal(i.lotSize), spec.market.notionalExponent);
      if (units === undefined || units > BigInt(MAX_SAFE))
        ctx.addIssue({
          code: "custom",
          path: at("lotSize"),
          message: `priceUnit x lotSize must be a whole number of 10^${spec.market.notionalExponent} currency units`,
        });
    }
  });
  const count = partitions.size;
  for (let p = 0; p < count; p++)
    if (!partitions.has(p))
      ctx.addIssue({
        code: "custom",
        path: ["instruments"],
        message: `partitions must be numbered 0..${count - 1} without gaps; no instrument is on partition ${p}`,
      });
}

function tickScheduleOf(
  i: Pick<InstrumentSpec, "tickSize" | "tickSchedule">,
): readonly { fromPrice: number; tickSize: number }[] {
  if (i.tickSize !== undefined) return [{ fromPrice: 0, tickSize: i.tickSize }];
  // tickPreset has one value today, NSE, which is also the default.
  return i.tickSchedule ?? NSE_TICK_SCHEDULE;
}

function tickAt(schedule: readonly { fromPrice: number; tickSize: number }[], price: number): number | undefined {
  let tick: number | undefined;
  for (const band of schedule) if (price >= band.fromPrice) tick = band.tickSize;
  return tick;
}

export const tradingVenueSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("TradingVenue"),
  metadata: objectMetaSchema,
  spec: tradingVenueSpecSchema,
});

export type TradingVenue = z.infer<typeof tradingVenueSchema>;
export type TradingVenueSpec = z.infer<typeof tradingVenueSpecSchema>;
export type InstrumentSpec = z.infer<typeof instrumentSpecSchema>;

/** The instrument's tick table with explicit bands (NSE expanded). */
export function tickBandsOf(i: InstrumentSpec): readonly { fromPrice: number; tickSize: number }[] {
  return tickScheduleOf(i);
}

/** Notional units of one lot at price 1 (validated to be a whole number). */
export function notionalPerTickLot(i: InstrumentSpec, notionalExponent: number): number {
  return Number(productInUnits(parseDecimal(i.priceUnit), parseDecimal(i.lotSize), notionalExponent));
}

/** Number of engine partitions (instruments are on 0..n-1). */
export function partitionCount(spec: TradingVenueSpec): number {
  return Math.max(...spec.instruments.map((i) => i.partition)) + 1;
}
