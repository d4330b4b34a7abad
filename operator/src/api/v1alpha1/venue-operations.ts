import { z } from "zod";
import { LIST_SET } from "./kube-schema.ts";

/**
 * The parts of a TradingVenue spec that only the operator reads: where engine pods may
 * run, which images run, what happens to the streams when the venue is deleted and when
 * disruptive engine restarts may happen. Local mode ignores them.
 *
 * Kubernetes' own placement types (affinity, tolerations, topology spread) are passed
 * through as they are written: the operator's builders validate every pod they produce
 * against the upstream Kubernetes schemas, so a bad toleration is reported by name there.
 */

/** A Kubernetes object passed through as written: the CRD keeps its fields unpruned. */
const kubeObject = z
  .record(z.string(), z.unknown())
  .meta({ additionalProperties: false, "x-kubernetes-preserve-unknown-fields": true });

export const tolerationSchema = z
  .object({
    key: z.string().max(316).optional().describe("Taint key the toleration applies to; empty = every key"),
    operator: z.enum(["Exists", "Equal"]).optional().describe("Exists or Equal (default Equal)"),
    value: z.string().max(63).optional().describe("Taint value to match with operator Equal"),
    effect: z
      .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"])
      .optional()
      .describe("Taint effect to match; empty = every effect"),
    tolerationSeconds: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("How long a NoExecute taint is tolerated before eviction"),
  })
  .strict()
  .describe("A taint engine pods tolerate (core/v1 Toleration)");

const hugepageSize = z.enum(["2Mi", "1Gi"]);

export const enginePlacementSchema = z
  .object({
    nodeSelector: z
      .record(z.string(), z.string().max(63).describe("Label value the node must have"))
      .optional()
      .describe("Node labels an engine pod requires, e.g. a pool of isolated cores"),
    tolerations: z.array(tolerationSchema).max(32).optional().describe("Taints engine pods tolerate"),
    affinity: kubeObject.optional().describe("Kubernetes affinity of engine pods (core/v1 Affinity)"),
    topologySpreadConstraints: z
      .array(kubeObject.describe("One constraint, as core/v1 TopologySpreadConstraint"))
      .max(8)
      .optional()
      .describe("How engine pods spread over zones or nodes (core/v1 TopologySpreadConstraint)"),
    priorityClassName: z.string().max(253).optional().describe("PriorityClass of engine pods"),
    runtimeClassName: z.string().max(253).optional().describe("RuntimeClass of engine pods"),
    hugepages: z
      .object({
        size: hugepageSize.describe("Huge page size"),
        quantity: z
          .string()
          .regex(/^[1-9][0-9]*(Mi|Gi)$/, 'must be a quantity such as "512Mi" or "2Gi"')
          .describe("Huge pages per engine pod (requests equal limits)"),
      })
      .strict()
      .optional()
      .describe("Huge pages for each engine pod"),
  })
  .strict();

/** A Secret's name: a lowercase DNS-1123 subdomain, as Kubernetes requires of every object name. */
export const SECRET_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const SECRET_NAME_MAX_LENGTH = 253;
export const SECRET_NAME_MESSAGE = "must be a Secret name: lowercase DNS subdomain";
/** A key of a Secret's data: what Kubernetes allows in a Secret key (and so a file name in its volume). */
export const SECRET_KEY_PATTERN = /^[-._a-zA-Z0-9]+$/;
export const SECRET_KEY_MAX_LENGTH = 253;
export const SECRET_KEY_MESSAGE = "must be a Secret key: 1..253 characters of [-._a-zA-Z0-9]";
/** Most image pull Secrets a venue's pods take (spec.images.pullSecrets, the operator's --image-pull-secret). */
export const MAX_IMAGE_PULL_SECRETS = 16;

export const imagesSchema = z
  .object({
    engine: z.string().min(1).max(512).optional().describe("Image of the matching engine"),
    risk: z.string().min(1).max(512).optional().describe("Image of the risk gateway"),
    marketData: z.string().min(1).max(512).optional().describe("Image of the market-data service"),
    fixGateway: z.string().min(1).max(512).optional().describe("Image of the FIX gateway"),
    journal: z.string().min(1).max(512).optional().describe("Image of the trade journal"),
    pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).optional().describe("Image pull policy"),
    pullSecrets: z
      .array(
        z
          .string()
          .max(SECRET_NAME_MAX_LENGTH, SECRET_NAME_MESSAGE)
          .regex(SECRET_NAME_PATTERN, SECRET_NAME_MESSAGE)
          .describe("Name of a Secret of type kubernetes.io/dockerconfigjson in the venue's namespace"),
      )
      .max(MAX_IMAGE_PULL_SECRETS, `at most ${MAX_IMAGE_PULL_SECRETS} Secrets`)
      .refine((list) => new Set(list).size === list.length, "must not name a Secret twice")
      .meta(LIST_SET)
      .optional()
      .describe(
        "Secrets with the registry credentials every pod of the venue pulls its image with (imagePullSecrets), its strategies' pods too; each must exist in the venue's namespace. Unset: the operator's --image-pull-secret; [] = none",
      ),
  })
  .strict();

/** A Secret's name, as every field that names one in the venue's namespace checks it. */
const secretName = () =>
  z.string().max(SECRET_NAME_MAX_LENGTH, SECRET_NAME_MESSAGE).regex(SECRET_NAME_PATTERN, SECRET_NAME_MESSAGE);

/** The key of the NATS servers' CA in spec.nats.tls.caSecret when it names none (cert-manager's). */
export const DEFAULT_NATS_CA_KEY = "ca.crt";

/**
 * TLS from the venue's pods to NATS. Its presence requires TLS: a pod refuses a server that
 * offers none instead of talking plaintext to it (nats.js takes TLS only from a server that
 * offers it, and ignores a tls:// scheme). Without caSecret the server's certificate is
 * verified against the system's CAs; with clientCertSecret the pods present a client
 * certificate, for servers that verify clients (`verify: true`).
 */
export const venueNatsTlsSchema = z
  .object({
    caSecret: z
      .object({
        name: secretName().describe("Name of the Secret, in the venue's namespace"),
        key: z
          .string()
          .max(SECRET_KEY_MAX_LENGTH, SECRET_KEY_MESSAGE)
          .regex(SECRET_KEY_PATTERN, SECRET_KEY_MESSAGE)
          .default(DEFAULT_NATS_CA_KEY)
          .describe(`Key of the CA certificate (PEM) in the Secret (default ${DEFAULT_NATS_CA_KEY})`),
      })
      .strict()
      .optional()
      .describe(
        "Secret holding the CA the NATS servers' certificates chain to, mounted read-only into every venue pod; unset: the system's CAs",
      ),
    clientCertSecret: secretName()
      .optional()
      .describe(
        "Secret of type kubernetes.io/tls (tls.crt, tls.key; e.g. cert-manager's) with the client certificate every venue pod presents to NATS servers that verify clients",
      ),
  })
  .strict();

export const natsConnectionSchema = z
  .object({
    url: z
      .array(
        z
          .string()
          .max(512)
          .regex(/^(nats|tls):\/\/[^\s]+$/, "must be a nats:// or tls:// URL")
          .describe("A NATS server URL"),
      )
      .min(1)
      .max(16)
      .optional()
      .describe("NATS servers the venue's pods connect to (default: the operator's --nats-url)"),
    credentialsSecret: z
      .string()
      .max(253)
      .optional()
      .describe("Secret holding a NATS credentials file under the key nats.creds, mounted into every venue pod"),
    tls: venueNatsTlsSchema
      .optional()
      .describe(
        "TLS to NATS, required when set ({} = verified against the system's CAs); a tls:// URL requires it too. Local mode ignores it",
      ),
  })
  .strict();

const clockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a UTC time "HH:MM"');
export const weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

export const maintenanceWindowSchema = z
  .object({
    days: z
      .array(z.enum(weekdays).describe("A day of the week"))
      .min(1)
      .max(7)
      .optional()
      .describe("Days of the week (UTC); default every day"),
    start: clockTime.describe("Start of the window, UTC"),
    end: clockTime.describe("End of the window, UTC; before start = the window ends the next day"),
  })
  .strict();

export const maintenanceSchema = z
  .object({
    windows: z
      .array(maintenanceWindowSchema.describe("A time when engine pods may restart"))
      .max(16)
      .optional()
      .describe("When engine pods may be restarted to roll out a change; none = any time"),
  })
  .strict();

export const deletionPolicies = ["Retain", "Delete"] as const;

export type VenueNatsTls = z.infer<typeof venueNatsTlsSchema>;
export type EnginePlacement = z.infer<typeof enginePlacementSchema>;
export type MaintenanceWindow = z.infer<typeof maintenanceWindowSchema>;
