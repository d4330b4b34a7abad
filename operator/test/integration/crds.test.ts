import { appendFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { KubeCluster } from "@tradeplane/testkit";
import { MAX_INSTRUMENTS, MAX_PARTITIONS, parseManifests } from "../../src/api/v1alpha1/index.ts";
import { BAD_STRATEGIES, BAD_VENUES, MINIMAL_STRATEGY, MINIMAL_VENUE } from "../fixtures/bad-manifests.ts";

const root = new URL("../../../", import.meta.url);
const path = (relative: string) => fileURLToPath(new URL(relative, root));
const ns = "crds";
const api = `/apis/tradeplane.io/v1alpha1/namespaces/${ns}`;
const plural = { TradingVenue: "tradingvenues", StrategyDeployment: "strategydeployments" } as const;

type Status = { status: number; body: { message?: string; spec?: unknown } };

let kube: KubeCluster;

beforeAll(async () => {
  kube = await KubeCluster.start({ controllerManager: false });
  await kube.kubectl(["apply", "--server-side", "-f", path("manifests/crds")]);
  await kube.kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"]);
  await kube.kubectl(["create", "namespace", ns]);
});

afterAll(async () => {
  await kube?.dispose();
});

/** Sends a manifest as kubectl would (strict field validation), optionally as a dry run. */
function create(text: string, dryRun = true): Promise<Status> {
  const manifest = parse(text) as { kind: keyof typeof plural };
  const query = `?fieldValidation=Strict${dryRun ? "&dryRun=All" : ""}`;
  return kube.request("POST", `${api}/${plural[manifest.kind]}${query}`, manifest) as Promise<Status>;
}

/** The API server names a field as `path: Invalid value...` or, for an unknown one, `"path"`. */
function fieldNamed(field: string): RegExp {
  return new RegExp(`(^|[ "[])${field.replace(/[.[\]]/g, "\\$&")}(: |")`);
}

function mergePatch(resource: string, patch: object): Promise<Status> {
  return kube.request("PATCH", `${api}/${resource}`, patch, "application/merge-patch+json") as Promise<Status>;
}

describe("the generated CRDs on a real kube-apiserver", () => {
  it("are accepted and established", async () => {
    const names = await kube.kubectl(["get", "crd", "-o", "name"]);
    expect(names.split("\n").sort()).toEqual(
      expect.arrayContaining([
        "customresourcedefinition.apiextensions.k8s.io/strategydeployments.tradeplane.io",
        "customresourcedefinition.apiextensions.k8s.io/tradingvenues.tradeplane.io",
      ]),
    );
  });

  it.each(["examples/venue.yaml", "examples/strategy.yaml"])(
    "accept %s and default it exactly as local mode does",
    async (file) => {
      const text = readFileSync(path(file), "utf8");
      const res = await create(text, false);
      expect(res.status, res.body.message).toBe(201);
      expect(res.body.spec).toEqual(parseManifests(text, file)[0]!.spec);
    },
  );

  it.each([
    ["a CA and a client certificate", "{ caSecret: { name: nats-ca }, clientCertSecret: mini-nats-client }"],
    ["TLS alone", "{}"],
  ])("accept a venue's NATS TLS with %s, defaulted exactly as local mode does", async (_name, tls) => {
    const text = `${MINIMAL_VENUE}  nats: { tls: ${tls} }\n`;
    const res = await create(text);
    expect(res.status, res.body.message).toBe(201);
    expect(res.body.spec).toEqual(parseManifests(text, "venue.yaml")[0]!.spec);
  });

  it("accept a venue of the most instruments, within the CEL cost budget", async () => {
    // The API server checks each rule's worst-case cost when the CRD is created (the CRDs
    // install: see beforeAll) and its actual cost on each write: the most instruments on the
    // most partitions. (With the most bands too, the request takes 15 s on two busy cores.)
    const instruments = Array.from({ length: MAX_INSTRUMENTS }, (_, n) => ({
      symbol: `SYM${n}`,
      partition: n % MAX_PARTITIONS,
      referencePrice: 10_000 + n * 5,
      tickSchedule: Array.from({ length: 4 }, (_, b) => ({ fromPrice: b * 100_000, tickSize: 5 })),
      lotSize: "0.25",
      priceUnit: "0.04",
    }));
    const res = await create(JSON.stringify({ ...parse(MINIMAL_VENUE), spec: { instruments } }));
    expect(res.status, res.body.message).toBe(201);
    const tooMany = [...instruments, { symbol: "ONE-MORE", referencePrice: 10_000 }];
    const refused = await create(JSON.stringify({ ...parse(MINIMAL_VENUE), spec: { instruments: tooMany } }));
    expect(refused.body.message).toContain(`spec.instruments: Too many: ${MAX_INSTRUMENTS + 1}`);
  });

  it.each(BAD_VENUES)("refuse a venue with $name, naming $field", async ({ text, field }) => {
    const res = await create(text);
    expect([400, 422]).toContain(res.status);
    if (process.env.TP_PRINT_REFUSALS) appendFileSync(process.env.TP_PRINT_REFUSALS, `${res.body.message}\n`);
    expect(res.body.message).toMatch(fieldNamed(field));
  });

  it.each(BAD_STRATEGIES)("refuse a strategy with $name, naming $field", async ({ text, field }) => {
    const res = await create(text);
    expect([400, 422]).toContain(res.status);
    if (process.env.TP_PRINT_REFUSALS) appendFileSync(process.env.TP_PRINT_REFUSALS, `${res.body.message}\n`);
    expect(res.body.message).toMatch(fieldNamed(field));
  });

  it.each([
    ["a venue's market", "tradingvenues/mini", { spec: { market: { currency: "USD" } } }, "spec.market"],
    [
      "a venue's stream storage",
      "tradingvenues/mini",
      { spec: { streams: { storage: "memory" } } },
      "spec.streams.storage",
    ],
    ["a strategy's venue", "strategydeployments/mm", { spec: { venueRef: { name: "other" } } }, "spec.venueRef"],
    [
      "a strategy's further venues",
      "strategydeployments/mm",
      { spec: { venues: [{ venueRef: { name: "bse" }, account: "mm-bse" }] } },
      "spec.venues",
    ],
  ])("keep %s immutable", async (_name, resource, patch, field) => {
    for (const text of [MINIMAL_VENUE, MINIMAL_STRATEGY]) {
      const res = await create(text, false);
      expect([201, 409]).toContain(res.status);
    }
    const res = await mergePatch(resource, patch);
    expect(res.status).toBe(422);
    expect(res.body.message).toContain(`${field}: Invalid value`);
    expect(res.body.message).toContain("is immutable");
    // Fields that may change still do.
    expect((await mergePatch(resource, { metadata: { labels: { touched: "yes" } } })).status).toBe(200);
  });
});

describe("kubectl with the generated CRDs", () => {
  it("shows a venue's printer columns from its status", async () => {
    const status = {
      status: {
        phase: "Running",
        observedGeneration: 1,
        partitionsReady: "1/1",
        lastCommandSequence: 42,
        partitions: [{ partition: 0, appliedSequence: 42, ready: true }],
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "AllComponentsReady",
            message: "engine, risk and market data are ready",
            lastTransitionTime: "2026-01-02T03:04:05Z",
            observedGeneration: 1,
          },
        ],
      },
    };
    const res = await mergePatch("tradingvenues/demo/status", status);
    expect(res.status, res.body.message).toBe(200);
    const table = await kube.kubectl(["get", "venues", "-n", ns]);
    const [header, row] = table.trim().split("\n");
    expect(header!.split(/\s{2,}/)).toEqual(["NAME", "READY", "REASON", "PARTITIONS", "LAST SEQ", "AGE"]);
    expect(row).toMatch(/^demo\s+True\s+AllComponentsReady\s+1\/1\s+42\s+\d+s$/);
  });

  it("shows a strategy's printer columns from its status", async () => {
    const status = { status: { phase: "Running", grossPosition: 150, pnl: { realised: -2500, total: -1200 } } };
    expect((await mergePatch("strategydeployments/mm-reliance/status", status)).status).toBe(200);
    const [header, row] = (await kube.kubectl(["get", "strats", "-n", ns, "mm-reliance"])).trim().split("\n");
    expect(header!.split(/\s{2,}/)).toEqual(["NAME", "PHASE", "VENUE", "ACCOUNT", "POSITION", "P&L", "AGE"]);
    expect(row).toMatch(/^mm-reliance\s+Running\s+demo\s+mm-1\s+150\s+-1200\s+\d+s$/);
  });

  it("lists both kinds under the tradeplane category", async () => {
    const names = await kube.kubectl(["get", "tradeplane", "-n", ns, "-o", "name"]);
    expect(names).toContain("tradingvenue.tradeplane.io/demo");
    expect(names).toContain("strategydeployment.tradeplane.io/mm-reliance");
  });

  it("refuses a status that breaks the status schema, naming the field", async () => {
    const bad = {
      status: {
        conditions: [
          { type: "Ready", status: "Maybe", reason: "x", message: "", lastTransitionTime: "2026-01-02T03:04:05Z" },
        ],
      },
    };
    const res = await mergePatch("tradingvenues/demo/status", bad);
    expect(res.status).toBe(422);
    expect(res.body.message).toContain("status.conditions[0].status");
  });

  it("explains the fields of instruments", async () => {
    const text = await kube.kubectl(["explain", "tradingvenue.spec.instruments"]);
    expect(text).toContain("Instruments traded on the venue, unique by symbol");
    expect(text).toMatch(/symbol\s+<string> -required-/);
    expect(text).toContain("Ticker, unique in the venue; also a NATS subject token");
    expect(text).toMatch(/tickSchedule\s+<\[\]Object>/);
  });
});
