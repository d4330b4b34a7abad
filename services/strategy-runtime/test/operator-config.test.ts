import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { strategyDeploymentSchema } from "@tradeplane/operator/api/v1alpha1";
import { STRATEGY_MOUNTS, strategyConfigMap, strategyModel } from "@tradeplane/operator/strategy-workload";
import { REPO_ROOT } from "@tradeplane/testkit";
import { loadStrategyRuntimeConfig } from "../src/config.ts";
import { planDeployment } from "../src/deployment.ts";

/**
 * What the operator mounts into a strategy pod is what this runtime starts from: its
 * ConfigMap's config.yaml passes the runtime's config loader, and its strategy.yaml plans a
 * deployment of the same strategy (the operator once wrote a config the runtime refused).
 */

const dir = mkdtempSync(join(tmpdir(), "tp-strategy-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the operator's strategy ConfigMap", () => {
  it("holds a config the runtime loads and a StrategyDeployment it plans", () => {
    const manifest = parse(readFileSync(join(REPO_ROOT, "examples", "strategy.yaml"), "utf8")) as unknown;
    const strategy = strategyDeploymentSchema.parse(manifest);
    const { data } = strategyConfigMap(strategyModel(strategy, "tradeplane/strategy-runtime:test"));
    const configFile = join(dir, "config.yaml");
    writeFileSync(configFile, data["config.yaml"]);
    const config = loadStrategyRuntimeConfig({
      env: { TP_CONFIG_FILE: configFile, TP_INSTANCE_ID: "mm-pod-0" },
    });
    expect(config.specFile).toBe(STRATEGY_MOUNTS.specFile);
    expect(config.tokenFile).toBe(STRATEGY_MOUNTS.tokenFile);

    const plan = planDeployment(data["strategy.yaml"], "fallback");
    if (!plan.ok) throw new Error(JSON.stringify(plan.problems));
    expect(plan.name).toBe(strategy.metadata.name);
    expect(plan.spec.account).toBe(strategy.spec.account);
  });
});
