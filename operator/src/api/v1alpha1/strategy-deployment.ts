import { z } from "zod";
import { isInstrumentSymbol, isVenueName } from "@tradeplane/contracts";
import { API_VERSION, objectMetaSchema } from "./trading-venue.ts";

/**
 * The StrategyDeployment custom resource, in outline: the fields the strategy runtime and
 * its operator controller will need. Local mode validates such manifests; running them
 * arrives with the strategy runtime.
 */

const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

export const strategyDeploymentSpecSchema = z
  .object({
    venueRef: z
      .object({ name: z.string().refine(isVenueName, "must name a TradingVenue").describe("The venue to trade on") })
      .strict(),
    account: z
      .string()
      .regex(ACCOUNT_NAME, "must be 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit")
      .describe("The account the strategy trades; it can trade no other"),
    strategy: z
      .union([
        z
          .object({
            builtin: z.string().min(1).describe("Name of a built-in strategy, e.g. market-maker"),
            parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
          })
          .strict(),
        z.object({ image: z.string().min(1).describe("Container image of a custom strategy") }).strict(),
      ])
      .describe("What to run: a built-in strategy with parameters, or an image"),
    instruments: z
      .array(z.string().refine(isInstrumentSymbol, "must be an instrument symbol"))
      .min(1)
      .describe("Instruments the strategy trades"),
    limits: z
      .object({
        maxOrderQty: int(0).optional(),
        maxOrderNotional: int(0).optional(),
        maxPosition: int(0).optional(),
        creditLimit: int(0).optional(),
        maxOrdersPerSecond: int(0, 1_000_000).optional(),
      })
      .strict()
      .prefault({})
      .describe("Risk limits of the strategy's account"),
    paused: z.boolean().default(false).describe("Stop sending orders and cancel open ones"),
  })
  .strict();

export const strategyDeploymentSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("StrategyDeployment"),
  metadata: objectMetaSchema.extend({ name: z.string().min(1).max(63) }),
  spec: strategyDeploymentSpecSchema,
});

export type StrategyDeployment = z.infer<typeof strategyDeploymentSchema>;
