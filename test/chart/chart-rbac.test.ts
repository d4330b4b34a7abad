import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@tradeplane/testkit";
import { parseObjects, render, valuesFile } from "../support/chart.ts";
import type { RenderedObject } from "../support/upstream-schemas.ts";

/**
 * The chart grants the operator exactly what manifests/rbac/operator.yaml grants. That file
 * is the role the operator's integration tests and its image's test run under (as their
 * user), so a permission the operator needs and the chart lacks, or one the chart adds that
 * nothing uses, fails here rather than on a cluster.
 */

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}
type Role = RenderedObject & { rules: Rule[] };

/** Each rule as `group/resource:verb` grants: the same permissions however they are grouped into rules. */
const grants = (rules: readonly Rule[]): string[] =>
  [
    ...new Set(
      rules.flatMap((r) =>
        (r.apiGroups ?? [""]).flatMap((g) =>
          (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${g === "" ? "core" : g}/${res}:${v}`)),
        ),
      ),
    ),
  ].sort();

const manifest = parseObjects(readFileSync(join(REPO_ROOT, "manifests/rbac/operator.yaml"), "utf8")) as Role[];
const manifestRole = (kind: string) => manifest.find((o) => o.kind === kind)!;
const isLeaderElection = (o: RenderedObject) => o.metadata.name.endsWith("-leader-election");

describe("the chart's RBAC and manifests/rbac/operator.yaml", () => {
  it("grant the same permissions on the resources the operator manages, cluster-wide", async () => {
    const objects = (await render()) as Role[];
    const clusterRoles = objects.filter((o) => o.kind === "ClusterRole");
    expect(clusterRoles).toHaveLength(1);
    expect(grants(clusterRoles[0]!.rules)).toEqual(grants(manifestRole("ClusterRole").rules));
  });

  it("grant the same permissions in each watched namespace when namespaces are listed", async () => {
    const objects = (await render({ values: [valuesFile("namespaced-values.yaml")] })) as Role[];
    const roles = objects.filter((o) => o.kind === "Role" && !isLeaderElection(o));
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles)
      expect(grants(role.rules), role.metadata.namespace).toEqual(grants(manifestRole("ClusterRole").rules));
  });

  it("grant the same verbs on the leader Lease in the operator's namespace (the chart's narrowed to its name)", async () => {
    const objects = (await render()) as Role[];
    const chartLease = objects.filter((o) => o.kind === "Role" && isLeaderElection(o));
    const manifestLease = manifest.filter((o) => o.kind === "Role" && isLeaderElection(o));
    expect(chartLease).toHaveLength(1);
    expect(manifestLease).toHaveLength(1);
    expect(chartLease[0]!.metadata.namespace).toBe(manifestLease[0]!.metadata.namespace);
    expect(grants(chartLease[0]!.rules)).toEqual(grants(manifestLease[0]!.rules));
  });
});
