import { z } from "zod";
import {
  INSTRUMENT_SYMBOL_MAX_LENGTH,
  INSTRUMENT_SYMBOL_PATTERN,
  VENUE_NAME_MAX_LENGTH,
  VENUE_NAME_PATTERN,
} from "@tradeplane/contracts";
import { immutable, LIST_SET, validations } from "./kube-schema.ts";
import { API_VERSION, objectMetaSchema } from "./object-meta.ts";

/**
 * The StrategyDeployment custom resource: the fields the strategy runtime and its operator
 * controller need. As for TradingVenue, each rule is said in zod and, beside it, in CEL.
 */

const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

/** Most parameters of a built-in strategy, and most instruments a strategy trades. */
export const MAX_STRATEGY_PARAMETERS = 64;
export const MAX_STRATEGY_INSTRUMENTS = 1_000;
/** Most further venues one strategy trades on (spec.venues). */
export const MAX_STRATEGY_VENUES = 8;

export const strategySchema = z
  .object({
    builtin: z
      .string()
      .min(1)
      .max(63)
      .optional()
      .describe("Name of a built-in strategy of the strategy runtime, e.g. market-maker; or give image"),
    parameters: z
      .record(
        z.string().max(63),
        // Integers or strings, never floats: prices and sizes in parameters are ticks and lots.
        z
          .union([z.string().max(256), z.number().int()])
          .meta({ "x-kubernetes-int-or-string": true })
          .describe("An integer or a string"),
      )
      .refine((p) => Object.keys(p).length <= MAX_STRATEGY_PARAMETERS, `at most ${MAX_STRATEGY_PARAMETERS} parameters`)
      .optional()
      .meta({ maxProperties: MAX_STRATEGY_PARAMETERS })
      .describe(
        "Parameters of the strategy (integers or strings), e.g. spreadTicks: 4; a built-in checks its own, an image's module gets them as given",
      ),
    image: z.string().min(1).max(512).optional().describe("Container image of a custom strategy; or give builtin"),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.builtin === undefined) === (s.image === undefined))
      ctx.addIssue({ code: "custom", path: ["builtin"], message: "give exactly one of builtin and image" });
  })
  .meta(
    validations({
      rule: "has(self.builtin) != has(self.image)",
      message: "give exactly one of builtin and image",
      fieldPath: ".builtin",
    }),
  )
  .describe("What to run: a built-in strategy, or an image that carries its own strategy module, with parameters");

const limitsSchema = z
  .object({
    maxOrderQty: int(0).optional().describe("Largest order quantity in lots"),
    maxOrderNotional: int(0).optional().describe("Largest order value in notional units"),
    maxPosition: int(0).optional().describe("Largest position per instrument in lots"),
    creditLimit: int(0).optional().describe("Largest credit use in notional units"),
    maxOrdersPerSecond: int(0, 1_000_000).optional().describe("Largest order rate of the account"),
  })
  .strict()
  .prefault({})
  .describe("Risk limits of the strategy's account; the venue's defaults apply to those left out");

const venueRefSchema = z
  .object({
    name: z
      .string()
      .max(VENUE_NAME_MAX_LENGTH, "must name a TradingVenue")
      .regex(VENUE_NAME_PATTERN, "must name a TradingVenue")
      .describe("Name of a TradingVenue in the same namespace"),
  })
  .strict();

const accountSchema = z
  .string()
  .max(64)
  .regex(ACCOUNT_NAME, "must be 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");

/** One further venue of a strategy that trades on several (the smart order router). */
export const strategyVenueSchema = z
  .object({
    venueRef: venueRefSchema.describe("The further venue"),
    account: accountSchema.describe("The strategy's account on that venue, with its own token"),
  })
  .strict()
  .describe("A further venue the strategy trades on, with its account there");

export const strategyDeploymentSpecSchema = z
  .object({
    venueRef: venueRefSchema
      .meta(immutable("venueRef", "the account and its token belong to one venue; create a new StrategyDeployment"))
      .describe("The venue to trade on (immutable); the first venue of a strategy that trades on several"),
    account: accountSchema.describe("The account the strategy trades on venueRef; it can trade no other"),
    venues: z
      .array(strategyVenueSchema)
      .max(MAX_STRATEGY_VENUES)
      .refine((list) => new Set(list.map((v) => v.venueRef.name)).size === list.length, "must not name a venue twice")
      .meta(
        validations({
          rule: "self.all(x, self.exists_one(y, y.venueRef.name == x.venueRef.name))",
          message: "must not name a venue twice",
        }),
      )
      .optional()
      .describe(
        "Further venues the strategy trades on besides venueRef (a smart order router across NSE and BSE), each with its own account and token; the limits apply to each account. Each must be a TradingVenue in the same namespace. Immutable, as venueRef",
      ),
    strategy: strategySchema,
    instruments: z
      .array(
        z
          .string()
          .max(INSTRUMENT_SYMBOL_MAX_LENGTH, "must be an instrument symbol")
          .regex(INSTRUMENT_SYMBOL_PATTERN, "must be an instrument symbol")
          .describe("An instrument symbol of the venue"),
      )
      .min(1)
      .max(MAX_STRATEGY_INSTRUMENTS)
      .refine((list) => new Set(list).size === list.length, "must not repeat a symbol")
      .meta(LIST_SET)
      .describe("Instruments the strategy trades, each once"),
    limits: limitsSchema,
    paused: z.boolean().default(false).describe("Stop sending orders and cancel open ones"),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.venues?.some((v) => v.venueRef.name === s.venueRef.name))
      ctx.addIssue({ code: "custom", path: ["venues"], message: "must not name venueRef's venue again" });
  })
  .meta(
    validations(
      {
        rule: "!has(self.venues) || self.venues.all(v, v.venueRef.name != self.venueRef.name)",
        message: "must not name venueRef's venue again",
        fieldPath: ".venues",
      },
      {
        // On the spec, not the field: a rule on an optional field does not run when the field
        // is added or removed. Like venueRef: a venue's account and token belong to the
        // strategy, and a venue dropped from the list would keep a valid token nobody revokes.
        rule: "has(self.venues) == has(oldSelf.venues) && (!has(self.venues) || self.venues == oldSelf.venues)",
        message:
          "venues is immutable: each venue's account and token belong to the strategy; create a new StrategyDeployment",
        fieldPath: ".venues",
      },
    ),
  )
  .describe("Desired state of the strategy");

export const strategyDeploymentSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("StrategyDeployment"),
  metadata: objectMetaSchema.extend({ name: z.string().min(1).max(63) }),
  spec: strategyDeploymentSpecSchema,
});

export type StrategyDeployment = z.infer<typeof strategyDeploymentSchema>;

/** Every venue a deployment trades on, with its account there: venueRef first, then spec.venues. */
export function venuesOf(spec: StrategyDeployment["spec"]): { venue: string; account: string }[] {
  return [
    { venue: spec.venueRef.name, account: spec.account },
    ...(spec.venues ?? []).map((v) => ({ venue: v.venueRef.name, account: v.account })),
  ];
}
