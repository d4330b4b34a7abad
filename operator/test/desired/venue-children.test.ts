import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { venueChildren } from "../../src/desired/venue-children.ts";
import { upstreamSchemaError } from "../../src/desired/upstream-schemas.ts";
import { engineStatefulSet } from "../../src/desired/stateful-sets.ts";
import type { FixSessionTokens } from "../../src/desired/secrets.ts";
import { storedVenuePullSecrets } from "../../src/desired/venue-model.ts";
import {
  DEFAULTS,
  EXAMPLE_TEXT,
  FIX_BEHIND_LOAD_BALANCER,
  JOURNAL_ON_POSTGRES,
  modelOf,
  PINNED_TWO_PARTITIONS,
} from "./venue-fixtures.ts";

/**
 * Golden files: every child of a venue, one scenario per file. After an intended change,
 * rewrite them with `npx vitest run operator/test/desired -u` and review the diff.
 */
const TOKEN = "golden-admin-token-0123456789abcdef";
const PEER_TOKEN = "golden-risk-peer-token-0123456789abcdef";
const TOKENS = { "venue-operator": TOKEN, "risk-officer": `${TOKEN}-risk`, "read-only": `${TOKEN}-read` };
const FIX_TOKEN = "golden-fix-session-token";
const FIX_TOKENS: FixSessionTokens = new Map([
  ["broker-1", { tokenId: "00000000000000a1", account: "alice", token: `${FIX_TOKEN}-1` }],
  ["broker-2", { tokenId: "00000000000000b2", account: "bob", token: `${FIX_TOKEN}-2` }],
]);

const scenarios = [
  ["the example venue on one partition with defaults", "one-partition-defaults", EXAMPLE_TEXT, undefined],
  [
    "two pinned partitions with standbys, placement, hugepages, NATS credentials and TLS with a client certificate",
    "two-partitions-pinned",
    PINNED_TWO_PARTITIONS,
    undefined,
  ],
  [
    "the FIX gateway behind a load balancer with two sessions",
    "fix-gateway-load-balancer",
    FIX_BEHIND_LOAD_BALANCER,
    { tokens: FIX_TOKENS, allIssued: true },
  ],
  ["the journal on PostgreSQL", "journal-postgres", JOURNAL_ON_POSTGRES, undefined],
  [
    "the journal on embedded PGlite, with deletionPolicy Delete",
    "journal-embedded",
    JOURNAL_ON_POSTGRES.replace(
      "databaseUrlSecret: { name: nse-journal-db, key: url }",
      "embeddedStorage: 20Gi",
    ).replace("spec:", "spec:\n  deletionPolicy: Delete"),
    undefined,
  ],
] as const;

describe("a venue's children", () => {
  it.each(scenarios)("match the golden file for %s", async (_name, file, text, fixTokens) => {
    const { objects, invalid } = venueChildren(modelOf(text), TOKENS, fixTokens, PEER_TOKEN);
    expect(invalid).toEqual([]);
    const yaml = objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
    await expect(yaml).toMatchFileSnapshot(`golden/${file}.yaml`);
  });

  it.each(scenarios)("each pass the upstream Kubernetes schemas for %s", (_name, _file, text, fixTokens) => {
    for (const object of venueChildren(modelOf(text), TOKENS, fixTokens, PEER_TOKEN).objects)
      expect(upstreamSchemaError(object)).toBeUndefined();
  });

  it("give every child the venue as its controlling owner, but a journal volume retained with the streams", () => {
    for (const object of venueChildren(modelOf(EXAMPLE_TEXT), TOKENS, undefined, PEER_TOKEN).objects.filter(
      (o) => o.kind !== "PersistentVolumeClaim",
    ))
      expect(object.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: "TradingVenue", name: "demo", controller: true, blockOwnerDeletion: true }),
      ]);
  });

  it("never put the admin token into a ConfigMap", () => {
    const configs = venueChildren(modelOf(PINNED_TWO_PARTITIONS), TOKENS, undefined, PEER_TOKEN).objects.filter(
      (o) => o.kind === "ConfigMap",
    );
    expect(configs).toHaveLength(4);
    for (const c of configs) expect(JSON.stringify(c)).not.toContain(TOKEN);
  });
});

describe("the FIX gateway's children", () => {
  const model = modelOf(FIX_BEHIND_LOAD_BALANCER);
  const kinds = (tokens?: FixSessionTokens, m = model) =>
    venueChildren(m, TOKENS, { tokens: tokens ?? new Map(), allIssued: tokens !== undefined })
      .objects.filter((o) => o.metadata.labels?.["app.kubernetes.io/component"] === "fix-gateway")
      .map((o) => `${o.kind}/${o.metadata.name}`);
  const deployment = venueChildren(model, TOKENS, { tokens: FIX_TOKENS, allIssued: true }).objects.find(
    (o) => o.kind === "Deployment" && o.metadata.name === "nse-fix-gateway",
  ) as unknown as {
    spec: {
      replicas: number;
      strategy: unknown;
      template: {
        metadata: { annotations: Record<string, string> };
        spec: { containers: { volumeMounts: { name: string }[] }[] };
      };
    };
  };

  it("are all there once every session has its token", () => {
    expect(kinds(FIX_TOKENS)).toEqual([
      "ServiceAccount/nse-fix-gateway",
      "Secret/nse-fix-session-tokens",
      "ConfigMap/nse-fix-gateway-config",
      "Service/nse-fix-gateway",
      "Deployment/nse-fix-gateway",
      "PodDisruptionBudget/nse-fix-gateway",
      "NetworkPolicy/nse-fix-gateway",
    ]);
  });

  it("wait for the tokens: no Deployment before every session has one", () => {
    const some = new Map([...FIX_TOKENS].slice(0, 1));
    expect(
      venueChildren(model, TOKENS, { tokens: some, allIssued: false })
        .objects.filter((o) => ["Secret", "Deployment"].includes(o.kind))
        .map((o) => o.metadata.name),
    ).toEqual(["nse-admin-tokens", "nse-fix-session-tokens", "nse-risk", "nse-market-data"]);
    expect(kinds()).toEqual([
      "ServiceAccount/nse-fix-gateway",
      "ConfigMap/nse-fix-gateway-config",
      "Service/nse-fix-gateway",
      "PodDisruptionBudget/nse-fix-gateway",
      "NetworkPolicy/nse-fix-gateway",
    ]);
  });

  it("are gone with FIX disabled, but for the tokens Secret while its tokens await revocation", () => {
    const disabled = modelOf(FIX_BEHIND_LOAD_BALANCER.replace("enabled: true", "enabled: false"));
    expect(kinds(undefined, disabled)).toEqual([]);
    expect(
      venueChildren(disabled, TOKENS, { tokens: FIX_TOKENS, allIssued: false })
        .objects.filter((o) => o.metadata.labels?.["app.kubernetes.io/component"] === "fix-gateway")
        .map((o) => `${o.kind}/${o.metadata.name}`),
    ).toEqual(["Secret/nse-fix-session-tokens"]);
  });

  it("never put a session token into a ConfigMap or the pod spec", () => {
    const objects = venueChildren(model, TOKENS, { tokens: FIX_TOKENS, allIssued: true }).objects.filter(
      (o) => o.kind !== "Secret",
    );
    for (const o of objects) expect(JSON.stringify(o)).not.toContain(FIX_TOKEN);
  });

  it("run one gateway, replaced rather than rolled, without the admin tokens", () => {
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
    const mounts = deployment.spec.template.spec.containers[0]!.volumeMounts.map((m) => m.name);
    expect(mounts).toEqual(["config", "tmp", "session-tokens", "nats-credentials"]);
  });

  it("roll the gateway when a session's token changes", () => {
    const hash = (tokens: FixSessionTokens) =>
      (
        venueChildren(model, TOKENS, { tokens, allIssued: true }).objects.find(
          (o) => o.kind === "Deployment" && o.metadata.name === "nse-fix-gateway",
        ) as unknown as typeof deployment
      ).spec.template.metadata.annotations["tradeplane.io/config-hash"];
    const reissued = new Map(FIX_TOKENS);
    reissued.set("broker-2", { tokenId: "00000000000000c3", account: "bob", token: `${FIX_TOKEN}-3` });
    expect(hash(reissued)).not.toBe(hash(FIX_TOKENS));
  });
});

describe("the journal's children", () => {
  const journalObjects = (text: string) =>
    venueChildren(modelOf(text), TOKENS, undefined, PEER_TOKEN).objects.filter(
      (o) => o.metadata.labels?.["app.kubernetes.io/component"] === "journal",
    );
  const deployment = journalObjects(JOURNAL_ON_POSTGRES).find((o) => o.kind === "Deployment") as unknown as {
    spec: {
      replicas: number;
      strategy: unknown;
      template: {
        spec: {
          containers: { env: { name: string }[]; volumeMounts: { name: string; mountPath: string }[] }[];
          volumes: { name: string; secret?: unknown }[];
        };
      };
    };
  };

  it("are a config, Service, Deployment, budget and two policies (clients in, the database out)", () => {
    expect(journalObjects(JOURNAL_ON_POSTGRES).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ServiceAccount/nse-journal",
      "ConfigMap/nse-journal-config",
      "Service/nse-journal",
      "Deployment/nse-journal",
      "PodDisruptionBudget/nse-journal",
      "NetworkPolicy/nse-journal",
      "NetworkPolicy/nse-journal-database",
    ]);
  });

  it("run one projector, replaced rather than rolled: it is the database's single writer", () => {
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
  });

  it("take the database URL as a file of the Secret the spec names, never as a value", () => {
    const pod = deployment.spec.template.spec;
    expect(pod.volumes.find((v) => v.name === "database-url")?.secret).toEqual({
      secretName: "nse-journal-db",
      defaultMode: 0o440,
      items: [{ key: "url", path: "url" }],
    });
    expect(pod.containers[0]!.env.map((e) => e.name)).toEqual(["TP_CONFIG_FILE", "TP_INSTANCE_ID"]);
    const config = journalObjects(JOURNAL_ON_POSTGRES).find((o) => o.kind === "ConfigMap")!;
    expect(JSON.stringify(config)).toContain("databaseUrlFile: /var/run/secrets/tradeplane/journal-db/url");
    expect(JSON.stringify(config)).not.toMatch(/postgres(ql)?:\/\//);
  });

  it("are none without the journal", () => {
    expect(journalObjects(PINNED_TWO_PARTITIONS)).toEqual([]);
  });

  const EMBEDDED = JOURNAL_ON_POSTGRES.replace("databaseUrlSecret: { name: nse-journal-db, key: url }", "");
  it("put an embedded database on a volume of its own, with no way out to a database", () => {
    expect(journalObjects(EMBEDDED).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ServiceAccount/nse-journal",
      "ConfigMap/nse-journal-config",
      "PersistentVolumeClaim/nse-journal-data",
      "Service/nse-journal",
      "Deployment/nse-journal",
      "PodDisruptionBudget/nse-journal",
      "NetworkPolicy/nse-journal",
    ]);
    const config = journalObjects(EMBEDDED).find((o) => o.kind === "ConfigMap")!;
    expect(JSON.stringify(config)).toContain("pgliteDir: /var/lib/tradeplane/journal");
  });

  it.each([
    ["Retain (the default): the volume outlives the venue, as its streams do", EMBEDDED, undefined],
    ["Delete: the venue owns the volume", EMBEDDED.replace("spec:", "spec:\n  deletionPolicy: Delete"), "TradingVenue"],
  ])("follow deletionPolicy %s", (_name, text, owner) => {
    const claim = journalObjects(text).find((o) => o.kind === "PersistentVolumeClaim")!;
    expect((claim.metadata.ownerReferences as { kind: string }[] | undefined)?.[0]?.kind).toBe(owner);
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

describe("the image pull Secrets of a venue's pods", () => {
  // Every kind of venue pod: engines, risk, market data, the FIX gateway and the journal.
  const EVERY_POD = FIX_BEHIND_LOAD_BALANCER.replace("spec:", "spec:\n  journal: { enabled: true }");
  const withPullSecrets = (list: string) =>
    EVERY_POD.replace("spec:", `spec:\n  images: { pullPolicy: Always, pullSecrets: ${list} }`);
  const podSpecsOf = (text: string, operator: readonly string[]) =>
    venueChildren(modelOf(text, { ...DEFAULTS, pullSecrets: operator }), TOKENS, {
      tokens: FIX_TOKENS,
      allIssued: true,
    }).objects.flatMap((o) => {
      const pod = (o as { spec?: { template?: { spec?: { imagePullSecrets?: unknown } } } }).spec?.template?.spec;
      return pod === undefined ? [] : [[`${o.kind}/${o.metadata.name}`, pod.imagePullSecrets] as const];
    });

  it.each([
    ["neither the venue nor the operator names one: none, the nodes' own credentials", EVERY_POD, [], undefined],
    ["the operator's (--image-pull-secret), for a venue that names none", EVERY_POD, ["regcred"], ["regcred"]],
    [
      "the venue's own, instead of the operator's",
      withPullSecrets("[nse-registry, mirror.example]"),
      ["regcred"],
      ["nse-registry", "mirror.example"],
    ],
    ["none when the venue names an empty list, whatever the operator's", withPullSecrets("[]"), ["regcred"], undefined],
  ])("are %s", (_name, text, operator, expected) => {
    const pods = podSpecsOf(text, operator);
    expect(pods.map(([name]) => name)).toEqual([
      "StatefulSet/nse-engine-0",
      "Deployment/nse-risk",
      "Deployment/nse-market-data",
      "Deployment/nse-fix-gateway",
      "Deployment/nse-journal",
    ]);
    for (const [name, secrets] of pods)
      expect(secrets, name).toEqual(expected === undefined ? undefined : expected.map((n) => ({ name: n })));
  });

  it.each([
    ["its venue's", { spec: { images: { pullSecrets: ["nse-registry"] } } }, ["nse-registry"]],
    ["the operator's when its venue names none", { spec: { images: {} } }, ["regcred"]],
    ["none when its venue names an empty list", { spec: { images: { pullSecrets: [] } } }, []],
    ["the operator's while its venue does not exist", undefined, ["regcred"]],
    [
      "the operator's while its venue's images do not parse",
      { spec: { images: { pullSecrets: ["A_B"] } } },
      ["regcred"],
    ],
  ])("of a strategy are %s", (_name, venue, expected) => {
    expect(storedVenuePullSecrets(venue, { pullSecrets: ["regcred"] })).toEqual(expected);
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
    const { invalid } = venueChildren(bad, TOKENS, undefined, PEER_TOKEN);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatch(/^StatefulSet demo-engine-0: .*topologySpreadConstraints\/0\/maxSkew must be integer/);
  });
});
