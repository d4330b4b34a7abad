import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { venueChildren } from "../../src/desired/venue-children.ts";
import { upstreamSchemaError } from "../../src/desired/upstream-schemas.ts";
import { engineStatefulSet } from "../../src/desired/stateful-sets.ts";
import { EXAMPLE_TEXT, modelOf, PINNED_TWO_PARTITIONS } from "./venue-fixtures.ts";

/**
 * Golden files: every child of a venue, one scenario per file. After an intended change,
 * rewrite them with `npx vitest run operator/test/desired -u` and review the diff.
 */
const TOKEN = "golden-admin-token-0123456789abcdef";
const PEER_TOKEN = "golden-risk-peer-token-0123456789abcdef";
const TOKENS = { "venue-operator": TOKEN, "risk-officer": `${TOKEN}-risk`, "read-only": `${TOKEN}-read` };

const scenarios = [
  ["the example venue on one partition with defaults", "one-partition-defaults", EXAMPLE_TEXT],
  [
    "two pinned partitions with standbys, placement, hugepages and NATS credentials",
    "two-partitions-pinned",
    PINNED_TWO_PARTITIONS,
  ],
] as const;

describe("a venue's children", () => {
  it.each(scenarios)("match the golden file for %s", async (_name, file, text) => {
    const { objects, invalid } = venueChildren(modelOf(text), TOKENS, PEER_TOKEN);
    expect(invalid).toEqual([]);
    const yaml = objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
    await expect(yaml).toMatchFileSnapshot(`golden/${file}.yaml`);
  });

  it.each(scenarios)("each pass the upstream Kubernetes schemas for %s", (_name, _file, text) => {
    for (const object of venueChildren(modelOf(text), TOKENS, PEER_TOKEN).objects)
      expect(upstreamSchemaError(object)).toBeUndefined();
  });

  it("give every child the venue as its controlling owner", () => {
    for (const object of venueChildren(modelOf(EXAMPLE_TEXT), TOKENS, PEER_TOKEN).objects)
      expect(object.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: "TradingVenue", name: "demo", controller: true, blockOwnerDeletion: true }),
      ]);
  });

  it("never put the admin token into a ConfigMap", () => {
    const configs = venueChildren(modelOf(PINNED_TWO_PARTITIONS), TOKENS, PEER_TOKEN).objects.filter(
      (o) => o.kind === "ConfigMap",
    );
    expect(configs).toHaveLength(4);
    for (const c of configs) expect(JSON.stringify(c)).not.toContain(TOKEN);
  });
});

describe("an engine StatefulSet", () => {
  const model = modelOf(PINNED_TWO_PARTITIONS);
  const set = engineStatefulSet(model, 1);
  const container = set.spec.template.spec.containers[0]!;

  it("asks for Guaranteed QoS with whole CPUs: requests equal limits", () => {
    expect(container.resources.requests).toEqual(container.resources.limits);
    expect(container.resources.requests).toEqual({ cpu: "2", memory: "4Gi", "hugepages-2Mi": "512Mi" });
  });

  it("runs a primary and a standby, restarted only by the operator", () => {
    expect(set.spec.replicas).toBe(2);
    expect(set.spec.updateStrategy).toEqual({ type: "OnDelete" });
  });

  it("runs restricted: non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp", () => {
    expect(set.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("rolls when its partition's config changes and not when another partition's does", () => {
    const hash = (text: string, p: number) =>
      engineStatefulSet(modelOf(text), p).spec.template.metadata.annotations["tradeplane.io/config-hash"];
    const changed = PINNED_TWO_PARTITIONS.replace("INFY, referencePrice: 150000", "INFY, referencePrice: 150500");
    expect(hash(changed, 0)).toBe(hash(PINNED_TWO_PARTITIONS, 0));
    expect(hash(changed, 1)).not.toBe(hash(PINNED_TWO_PARTITIONS, 1));
  });
});

describe("a spec value the upstream schemas refuse", () => {
  it("is reported with the object and the field, and nothing is valid to apply", () => {
    const model = modelOf(EXAMPLE_TEXT);
    const bad = {
      ...model,
      enginePlacement: {
        topologySpreadConstraints: [{ maxSkew: "one", topologyKey: "zone", whenUnsatisfiable: "Never" }],
      },
    };
    const { invalid } = venueChildren(bad, TOKENS, PEER_TOKEN);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatch(/^StatefulSet demo-engine-0: .*topologySpreadConstraints\/0\/maxSkew must be integer/);
  });
});
