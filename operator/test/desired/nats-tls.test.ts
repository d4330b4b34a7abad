import { dirname, basename } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { venueChildren } from "../../src/desired/venue-children.ts";
import { SECRET_MODE } from "../../src/desired/pod-templates.ts";
import { DEFAULTS, FIX_BEHIND_LOAD_BALANCER, modelOf } from "./venue-fixtures.ts";

/**
 * TLS to NATS for every kind of venue pod: what spec.nats.tls asks for is mounted, read-only,
 * where each service's config (its natsTls, paths only) says the files are.
 */
const TOKENS = { "venue-operator": "t-operator", "risk-officer": "t-risk", "read-only": "t-read" };
const FIX_TOKENS = {
  tokens: new Map([
    ["broker-1", { tokenId: "00000000000000a1", account: "alice", token: "fix-1" }],
    ["broker-2", { tokenId: "00000000000000b2", account: "bob", token: "fix-2" }],
  ]),
  allIssued: true,
};

/** Every kind of venue pod (two engine partitions, risk, market data, FIX, journal), over nats://. */
const EVERY_POD = FIX_BEHIND_LOAD_BALANCER.replace("spec:", "spec:\n  journal: { enabled: true }")
  .replace(
    "    - { symbol: RELIANCE, referencePrice: 130000 }",
    "    - { symbol: RELIANCE, referencePrice: 130000 }\n    - { symbol: INFY, referencePrice: 150000, partition: 1 }",
  )
  .replace("url: [tls://nats-0.nats:4222]", "url: [nats://nats-0.nats:4222]");
const withTls = (tls: string) =>
  EVERY_POD.replace("credentialsSecret: nse-nats", `credentialsSecret: nse-nats\n    tls: ${tls}`);

interface Volume {
  name: string;
  projected?: { defaultMode: number; sources: { secret: { name: string; items: { key: string; path: string }[] } }[] };
}
interface Mount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface PodOwner {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    template?: {
      spec: {
        securityContext: { runAsNonRoot: boolean };
        containers: { volumeMounts: Mount[]; securityContext: { readOnlyRootFilesystem: boolean } }[];
        volumes: (Volume & { configMap?: { name: string } })[];
      };
    };
  };
}

/** Each pod of the venue with its NATS TLS volume, mount and the natsTls of its config. */
function podsOf(text: string) {
  const objects = venueChildren(modelOf(text, DEFAULTS), TOKENS, FIX_TOKENS, "peer-token")
    .objects as unknown as PodOwner[];
  const configMaps = new Map(objects.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o]));
  return objects.flatMap((o) => {
    const pod = o.spec?.template?.spec;
    if (pod === undefined) return [];
    const container = pod.containers[0]!;
    const configMap = pod.volumes.find((v) => v.name === "config")!.configMap!.name;
    const config = parse(configMaps.get(configMap)!.data!["config.yaml"]!) as { natsTls?: Record<string, string> };
    return [
      {
        name: `${o.kind}/${o.metadata.name}`,
        volume: pod.volumes.find((v) => v.name === "nats-tls"),
        mount: container.volumeMounts.find((m) => m.name === "nats-tls"),
        natsTls: config.natsTls,
        restricted: pod.securityContext.runAsNonRoot && container.securityContext.readOnlyRootFilesystem,
      },
    ];
  });
}

const EVERY_POD_NAME = [
  "StatefulSet/nse-engine-0",
  "StatefulSet/nse-engine-1",
  "Deployment/nse-risk",
  "Deployment/nse-market-data",
  "Deployment/nse-fix-gateway",
  "Deployment/nse-journal",
];

const caSource = (name: string, key: string) => ({ secret: { name, items: [{ key, path: "ca.crt" }] } });
const clientSource = (name: string) => ({
  secret: {
    name,
    items: [
      { key: "tls.crt", path: "tls.crt" },
      { key: "tls.key", path: "tls.key" },
    ],
  },
});
const DIR = "/var/run/secrets/tradeplane/nats-tls";

describe("TLS to NATS in every venue pod", () => {
  it.each([
    ["no TLS: no volume, no mount, no natsTls", EVERY_POD, undefined, undefined],
    ["TLS required without a Secret ({}): no volume, an empty natsTls", withTls("{}"), undefined, {}],
    [
      "a CA only: the CA Secret's key as ca.crt, and caFile",
      withTls("{ caSecret: { name: nats-ca } }"),
      [caSource("nats-ca", "ca.crt")],
      { caFile: `${DIR}/ca.crt` },
    ],
    [
      "a CA under another key",
      withTls("{ caSecret: { name: nats-ca, key: bundle.pem } }"),
      [caSource("nats-ca", "bundle.pem")],
      { caFile: `${DIR}/ca.crt` },
    ],
    [
      "a CA and a client certificate: both Secrets in one volume, caFile, certFile and keyFile",
      withTls("{ caSecret: { name: nats-ca }, clientCertSecret: nse-nats-client }"),
      [caSource("nats-ca", "ca.crt"), clientSource("nse-nats-client")],
      { caFile: `${DIR}/ca.crt`, certFile: `${DIR}/tls.crt`, keyFile: `${DIR}/tls.key` },
    ],
    [
      "a client certificate only (the system's CAs): certFile and keyFile",
      withTls("{ clientCertSecret: nse-nats-client }"),
      [clientSource("nse-nats-client")],
      { certFile: `${DIR}/tls.crt`, keyFile: `${DIR}/tls.key` },
    ],
  ])("with %s", (_name, text, sources, natsTls) => {
    const pods = podsOf(text);
    expect(pods.map((p) => p.name)).toEqual(EVERY_POD_NAME);
    for (const pod of pods) {
      expect(pod.natsTls, pod.name).toEqual(natsTls);
      expect(pod.restricted, pod.name).toBe(true);
      if (sources === undefined) {
        expect(pod.volume, pod.name).toBeUndefined();
        expect(pod.mount, pod.name).toBeUndefined();
        continue;
      }
      expect(pod.volume, pod.name).toEqual({ name: "nats-tls", projected: { defaultMode: SECRET_MODE, sources } });
      expect(pod.mount, pod.name).toEqual({ name: "nats-tls", mountPath: DIR, readOnly: true });
      // Every file the config names is one the volume lays out under the mount.
      const laidOut = sources.flatMap((s) => s.secret.items.map((i) => `${DIR}/${i.path}`));
      for (const file of Object.values(pod.natsTls ?? {})) {
        expect(dirname(file)).toBe(pod.mount!.mountPath);
        expect(laidOut, pod.name).toContain(`${DIR}/${basename(file)}`);
      }
    }
  });

  it.each([
    ["a tls:// URL requires TLS (an empty natsTls)", EVERY_POD.replace("nats://nats-0", "tls://nats-0"), {}],
    [
      "a tls:// URL with spec.nats.tls takes the spec's",
      withTls("{ caSecret: { name: nats-ca } }").replace("nats://nats-0", "tls://nats-0"),
      { caFile: `${DIR}/ca.crt` },
    ],
    ["a nats:// URL without spec.nats.tls leaves it to the server", EVERY_POD, undefined],
  ])("%s", (_name, text, natsTls) => {
    for (const pod of podsOf(text)) expect(pod.natsTls, pod.name).toEqual(natsTls);
  });

  it("puts no key material into a ConfigMap: paths only", () => {
    const objects = venueChildren(
      modelOf(withTls("{ caSecret: { name: nats-ca }, clientCertSecret: nse-nats-client }")),
      TOKENS,
      FIX_TOKENS,
    ).objects as unknown as PodOwner[];
    for (const o of objects.filter((c) => c.kind === "ConfigMap"))
      expect(JSON.stringify(o.data), o.metadata.name).not.toMatch(/BEGIN|PRIVATE/);
  });
});
