import { z } from "zod";
import { VENUE_NAME_MAX_LENGTH, VENUE_NAME_PATTERN } from "@tradeplane/contracts";

/** The API group and version of Tradeplane's custom resources. */
export const API_GROUP = "tradeplane.io";
export const API_VERSION = `${API_GROUP}/v1alpha1`;

const VENUE_NAME_MESSAGE = "must be a lowercase DNS label starting with a letter (it names streams and pods)";

/** The metadata a manifest of ours must have: a name that can name streams and pods. */
export const objectMetaSchema = z
  .object({
    name: z
      .string()
      .max(VENUE_NAME_MAX_LENGTH, VENUE_NAME_MESSAGE)
      .regex(VENUE_NAME_PATTERN, VENUE_NAME_MESSAGE)
      .describe("Venue name"),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();
