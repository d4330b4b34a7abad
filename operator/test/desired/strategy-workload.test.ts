import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseManifests, type StrategyDeployment } from "../../src/api/v1alpha1/index.ts";
import {
  strategyChildren,
  strategyConfig,
  strategyDeployment,
  strategyModel,
  strategyTokenSecret,
  tokensOfSecret,
} from "../../src/desired/strategy-workload.ts";
import { upstreamSchemaError } from "../../src/desired/upstream-schemas.ts";

/** Golden files as in venue-children.test.ts: `npx vitest run operator/test/desired -u` rewrites them. */
const RUNTIME = "ghcr.io/tradeplane/strategy-runtime:0.1.0";
const TOKEN = { id: "tok-0001", token: "golden-strategy-token-0123456789" };
const TOKENS = {
  demo: TOKEN,
  nse: TOKEN,
  bse: { id: "tok-0002", token: "golden-strategy-token-bse-987654" },
};

const strategyOf = (yaml: string): StrategyDeployment => {
  const s = parseManifests(yaml, "strategy.yaml")[0] as StrategyDeployment;
  return { ...s, metadata: { ...s.metadata, namespace: "markets", uid: "5d2e7c1a-0000-4000-8000-000000000002" } };
};

const BUILTIN = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: mm-reliance }
spec:
  venueRef: { name: demo }
  account: mm-1
  strategy: { builtin: market-maker, parameters: { spreadTicks: 4, size: 10 } }
  instruments: [RELIANCE]
  limits: { maxPosition: 1000, maxOrdersPerSecond: 50 }
`;

const IMAGE_PAUSED = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: arb }
spec:
  venueRef: { name: demo }
  account: arb-7
  strategy: { image: registry.local/arb:2.0.1 }
  instruments: [RELIANCE, INFY]
  paused: true
`;

const ROUTER = `
apiVersion: tradeplane.io/v1alpha1
kind: StrategyDeployment
metadata: { name: router }
spec:
  venueRef: { name: nse }
  account: router-nse
  venues: [{ venueRef: { name: bse }, account: router-bse }]
  strategy: { builtin: smart-order-router, parameters: { side: BUY, totalQty: 150, limitPrice: 150100 } }
  instruments: [RELIANCE]
  limits: { maxPosition: 1000 }
`;

describe("a strategy's children", () => {
  it.each([
    ["a built-in market maker", "strategy-builtin", BUILTIN],
    ["a paused custom image", "strategy-image-paused", IMAGE_PAUSED],
    ["a smart order router on two venues", "strategy-two-venues", ROUTER],
  ])("match the golden file for %s and pass the upstream schemas", async (_name, file, yaml) => {
    const objects = strategyChildren(strategyModel(strategyOf(yaml), RUNTIME), TOKENS);
    for (const o of objects) expect(upstreamSchemaError(o)).toBeUndefined();
    await expect(objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n")).toMatchFileSnapshot(
      `golden/${file}.yaml`,
    );
  });

  it("run the user's image, scaled to zero while paused", () => {
    const d = strategyDeployment(strategyModel(strategyOf(IMAGE_PAUSED), RUNTIME));
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.template.spec.containers[0]!.image).toBe("registry.local/arb:2.0.1");
  });

  it.each([
    ["no image pull Secrets: none in the pod", BUILTIN, [], undefined],
    ["its venue's image pull Secrets in the pod", BUILTIN, ["nse-registry"], [{ name: "nse-registry" }]],
    ["a custom image with its venue's image pull Secrets", IMAGE_PAUSED, ["a", "b"], [{ name: "a" }, { name: "b" }]],
  ])("run with %s", (_name, yaml, pullSecrets, expected) => {
    const d = strategyDeployment(strategyModel(strategyOf(yaml), RUNTIME, pullSecrets));
    expect(d.spec.template.spec.imagePullSecrets).toEqual(expected);
    expect(upstreamSchemaError(d)).toBeUndefined();
  });

  it("name every venue's services and token file in the config, the first venue at the top", () => {
    expect(strategyConfig(strategyModel(strategyOf(ROUTER), RUNTIME))).toMatchObject({
      tokenFile: "/var/run/secrets/tradeplane/strategy/token",
      orderEntry: "nse-risk.markets.svc:50061",
      venues: [
        {
          venue: "bse",
          orderEntry: "bse-risk.markets.svc:50061",
          marketData: expect.stringMatching(/^bse-market-data\.markets\.svc:\d+$/),
          tokenFile: "/var/run/secrets/tradeplane/strategy/token.bse",
        },
      ],
    });
    expect(strategyConfig(strategyModel(strategyOf(BUILTIN), RUNTIME))).not.toHaveProperty("venues");
  });

  it("keep one token per venue in the Secret and read them back", () => {
    const model = strategyModel(strategyOf(ROUTER), RUNTIME);
    const secret = strategyTokenSecret(model, TOKENS);
    expect(Object.keys(secret.data)).toEqual(["token", "token.bse"]);
    expect(tokensOfSecret(model, secret)).toEqual({ nse: TOKENS.nse, bse: TOKENS.bse });
    // A venue whose key was lost has no token; the others keep theirs.
    const { ["token.bse"]: _lost, ...rest } = secret.data;
    expect(tokensOfSecret(model, { ...secret, data: rest })).toEqual({ nse: TOKENS.nse });
  });

  it("keep the tokens had so far in the Secret but start no pod until every venue has one", () => {
    const model = strategyModel(strategyOf(ROUTER), RUNTIME);
    const children = strategyChildren(model, { nse: TOKEN });
    expect(children.map((o) => o.kind)).toEqual(["ServiceAccount", "ConfigMap", "Secret"]);
    expect(tokensOfSecret(model, strategyTokenSecret(model, { bse: TOKENS.bse }))).toEqual({ bse: TOKENS.bse });
  });

  it("have no pods and no token Secret before a token is issued", () => {
    expect(strategyChildren(strategyModel(strategyOf(BUILTIN), RUNTIME), undefined).map((o) => o.kind)).toEqual([
      "ServiceAccount",
      "ConfigMap",
    ]);
  });
});
