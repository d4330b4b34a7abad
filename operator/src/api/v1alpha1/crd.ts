import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { VENUE_NAME_MAX_LENGTH, VENUE_NAME_PATTERN } from "@tradeplane/contracts";
import { specJsonSchema, statusJsonSchema, type JsonSchema, type ResourceKind } from "./schema.ts";
import { API_GROUP } from "./trading-venue.ts";

/**
 * The CustomResourceDefinitions of tradeplane.io, generated from the types in this folder:
 * `npm run crds` writes manifests/crds/*.yaml (the Helm chart copies them) and a test fails
 * when the checked-in files are stale.
 */

export const API_VERSION_NAME = "v1alpha1";
export const CATEGORY = "tradeplane";

interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "date" | "boolean" | "number";
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

interface ResourceNames {
  readonly kind: ResourceKind;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly columns: readonly PrinterColumn[];
}

const condition = (type: string, field: "status" | "reason") => `.status.conditions[?(@.type=="${type}")].${field}`;
const AGE: PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
  description: "Time since the resource was created",
};

export const RESOURCES: Record<ResourceKind, ResourceNames> = {
  TradingVenue: {
    kind: "TradingVenue",
    plural: "tradingvenues",
    singular: "tradingvenue",
    shortNames: ["venue", "venues"],
    description:
      "A trading venue: matching engine partitions, pre-trade risk gateways and market data over NATS JetStream, " +
      "run by the Tradeplane operator.",
    columns: [
      {
        name: "Ready",
        type: "string",
        jsonPath: condition("Ready", "status"),
        description: "Whether the venue trades",
      },
      { name: "Reason", type: "string", jsonPath: condition("Ready", "reason"), description: "Why (or why not)" },
      {
        name: "Partitions",
        type: "string",
        jsonPath: ".status.partitionsReady",
        description: "Ready engine partitions out of all",
      },
      {
        name: "Last Seq",
        type: "integer",
        jsonPath: ".status.lastCommandSequence",
        description: "Last sequence of the command log",
      },
      AGE,
    ],
  },
  StrategyDeployment: {
    kind: "StrategyDeployment",
    plural: "strategydeployments",
    singular: "strategydeployment",
    shortNames: ["strat", "strats"],
    description: "A trading strategy run against a TradingVenue with its own account, limits and token.",
    columns: [
      { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Pending, Running, Paused, ..." },
      { name: "Venue", type: "string", jsonPath: ".spec.venueRef.name", description: "The venue it trades on" },
      { name: "Account", type: "string", jsonPath: ".spec.account", description: "The account it trades" },
      {
        name: "Position",
        type: "integer",
        jsonPath: ".status.grossPosition",
        description: "Sum of absolute positions, in lots",
      },
      {
        name: "P&L",
        type: "integer",
        jsonPath: ".status.pnl.total",
        description: "Realised plus unrealised P&L, in notional units",
      },
      AGE,
    ],
  },
};

/** The CRD of one kind, as the API server takes it. */
export function customResourceDefinition(kind: ResourceKind): JsonSchema {
  const r = RESOURCES[kind];
  // A venue's name names its streams, buckets and Services, so it is a DNS label starting
  // with a letter; the API server keeps it immutable, as every object's name.
  const name =
    kind === "TradingVenue"
      ? { type: "string", maxLength: VENUE_NAME_MAX_LENGTH, pattern: VENUE_NAME_PATTERN.source }
      : { type: "string", maxLength: 63 };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${r.plural}.${API_GROUP}`,
      labels: { "app.kubernetes.io/part-of": "tradeplane" },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: r.kind,
        listKind: `${r.kind}List`,
        plural: r.plural,
        singular: r.singular,
        shortNames: r.shortNames,
        categories: [CATEGORY],
      },
      scope: "Namespaced",
      versions: [
        {
          name: API_VERSION_NAME,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: r.columns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: r.description,
              required: ["spec"],
              properties: {
                apiVersion: { type: "string", description: "tradeplane.io/v1alpha1" },
                kind: { type: "string", description: r.kind },
                metadata: { type: "object", properties: { name } },
                spec: specJsonSchema(kind),
                status: statusJsonSchema(kind),
              },
            },
          },
        },
      ],
    },
  };
}

/** File name of a kind's CRD in manifests/crds (controller-gen's convention). */
export function crdFileName(kind: ResourceKind): string {
  return `${API_GROUP}_${RESOURCES[kind].plural}.yaml`;
}

/** The YAML text of a kind's CRD file. */
export function crdYaml(kind: ResourceKind): string {
  const header = "# Generated by `npm run crds` from operator/src/api/v1alpha1; do not edit by hand.\n";
  return header + stringify(customResourceDefinition(kind), { lineWidth: 0 });
}

export const KINDS: readonly ResourceKind[] = ["TradingVenue", "StrategyDeployment"];

if (import.meta.main) {
  const dir = process.argv[2] ?? "manifests/crds";
  mkdirSync(dir, { recursive: true });
  for (const kind of KINDS) writeFileSync(join(dir, crdFileName(kind)), crdYaml(kind));
}
