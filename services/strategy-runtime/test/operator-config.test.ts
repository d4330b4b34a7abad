import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { strategyDeploymentSchema } from "@tradeplane/operator/api/v1alpha1";
import { venuesOf } from "@tradeplane/strategy-api";
import {
  STRATEGY_MOUNTS,
  strategyConfigMap,
  strategyModel,
  strategyTokenSecret,
} from "@tradeplane/operator/strategy-workload";
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

  it("on two venues holds every venue's services and a token file the token Secret has a key for", () => {
    const manifest = parseAllDocuments(readFileSync(join(REPO_ROOT, "examples", "router.yaml"), "utf8"))
      .map((d) => d.toJS() as { kind?: string; spec?: { venues?: unknown } })
      .find((d) => d.kind === "StrategyDeployment" && d.spec?.venues !== undefined);
    const strategy = strategyDeploymentSchema.parse({
      ...manifest,
      metadata: { ...(manifest as { metadata: object }).metadata, namespace: "markets" },
    });
    const model = strategyModel(strategy, "tradeplane/strategy-runtime:test");
    const { data } = strategyConfigMap(model);
    const configFile = join(dir, "router-config.yaml");
    writeFileSync(configFile, data["config.yaml"]);
    const config = loadStrategyRuntimeConfig({ env: { TP_CONFIG_FILE: configFile, TP_INSTANCE_ID: "router-pod-0" } });

    const plan = planDeployment(data["strategy.yaml"], "fallback");
    if (!plan.ok) throw new Error(JSON.stringify(plan.problems));
    expect(plan.run.venues).toBe("several");
    // What the runtime's main asks of its config: each further venue by name, with services.
    const [first, ...further] = venuesOf(plan.spec);
    expect(config.orderEntry).toBe(`${first!.venue}-risk.markets.svc:50061`);
    expect(config.venues.map((v) => v.venue)).toEqual(further.map((v) => v.venue));
    // Each token file is a key of the one token Secret mounted at STRATEGY_MOUNTS.token.
    const secret = strategyTokenSecret(
      model,
      Object.fromEntries(venuesOf(plan.spec).map((v, n) => [v.venue, { id: `tok-${n}`, token: `t-${n}` }])),
    );
    const files = [config.tokenFile, ...config.venues.map((v) => v.tokenFile)];
    expect(files.map((f) => f.slice(STRATEGY_MOUNTS.token.length + 1)).sort()).toEqual(Object.keys(secret.data).sort());
    for (const v of config.venues) {
      expect(v.orderEntry).toBe(`${v.venue}-risk.markets.svc:50061`);
      expect(v.marketData).toMatch(new RegExp(`^${v.venue}-market-data\\.markets\\.svc:\\d+$`));
    }
  });
});
