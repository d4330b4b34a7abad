import { describe, expect, it } from "vitest";
import { parseOperatorArgs } from "../src/config.ts";

describe("parseOperatorArgs", () => {
  it("watches every namespace and elects a leader by default", () => {
    const config = parseOperatorArgs([], {});
    expect(config).toMatchObject({
      namespaces: undefined,
      leaderElection: true,
      leaseNamespace: "default",
      opsPort: 8080,
      sequenceStatusSeconds: 30,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("takes repeated and comma-separated namespaces", () => {
    expect(parseOperatorArgs(["--namespace", "a,b", "--namespace", "c"], {}).namespaces).toEqual(["a", "b", "c"]);
  });

  it("puts the Lease in the pod's namespace", () => {
    expect(parseOperatorArgs([], { POD_NAMESPACE: "tradeplane-system" }).leaseNamespace).toBe("tradeplane-system");
  });

  it("takes TLS to NATS from files, as the chart passes them", () => {
    const config = parseOperatorArgs(
      ["--nats-tls-ca-file", "/n/ca.crt", "--nats-tls-cert-file", "/n/tls.crt", "--nats-tls-key-file", "/n/tls.key"],
      {},
    );
    expect(config.natsTls).toEqual({ caFile: "/n/ca.crt", certFile: "/n/tls.crt", keyFile: "/n/tls.key" });
    expect(parseOperatorArgs([], {}).natsTls).toBeUndefined();
  });

  it("requires TLS to NATS with --nats-tls alone, verified against the system's CAs", () => {
    expect(parseOperatorArgs(["--nats-tls"], {}).natsTls).toEqual({});
    expect(parseOperatorArgs(["--nats-tls", "--nats-tls-ca-file", "/n/ca.crt"], {}).natsTls).toEqual({
      caFile: "/n/ca.crt",
    });
  });

  it("gives venues no image pull Secret by default, and each --image-pull-secret once", () => {
    expect(parseOperatorArgs([], {}).pullSecrets).toEqual([]);
    expect(
      parseOperatorArgs(
        ["--image-pull-secret", "regcred", "--image-pull-secret", "mirror.example", "--image-pull-secret", "regcred"],
        {},
      ).pullSecrets,
    ).toEqual(["regcred", "mirror.example"]);
  });

  it("reaches a venue's gateway where --risk-address says", () => {
    expect(parseOperatorArgs(["--risk-address", "demo=127.0.0.1:50061"], {}).riskAddresses).toEqual({
      demo: "127.0.0.1:50061",
    });
  });

  it("traces nothing by default, and exports over OTLP when asked", () => {
    expect(parseOperatorArgs([], {}).tracing).toEqual({ exporter: "none" });
    expect(
      parseOperatorArgs(
        [
          "--tracing",
          "otlp",
          "--otlp-endpoint",
          "http://collector:4318/v1/traces",
          "--trace-sample-ratio",
          "0.25",
          "--trace-resource-attribute",
          "deployment.environment=prod",
          "--trace-resource-attribute",
          "k8s.cluster.name=eks-1",
        ],
        {},
      ).tracing,
    ).toEqual({
      exporter: "otlp",
      otlpEndpoint: "http://collector:4318/v1/traces",
      sampleRatio: 0.25,
      resourceAttributes: { "deployment.environment": "prod", "k8s.cluster.name": "eks-1" },
    });
  });

  it.each([
    ["an unknown exporter", ["--tracing", "jaeger"], /--tracing must be none or otlp/],
    ["an endpoint that is no http URL", ["--otlp-endpoint", "collector:4318"], /--otlp-endpoint must be an http/],
    ["a sample ratio above 1", ["--trace-sample-ratio", "1.5"], /--trace-sample-ratio must be a number in 0..1/],
    ["a sample ratio that is no number", ["--trace-sample-ratio", "half"], /--trace-sample-ratio must be/],
    ["a resource attribute without a value", ["--trace-resource-attribute", "env"], /KEY=VALUE/],
    ["a client certificate without its key", ["--nats-tls-cert-file", "/n/tls.crt"], /go together/],
    [
      "an image pull Secret that is no Secret name",
      ["--image-pull-secret", "Reg_Cred"],
      /--image-pull-secret must be a Secret name, a lowercase DNS subdomain \(got Reg_Cred\)/,
    ],
    [
      "17 image pull Secrets",
      Array.from({ length: 17 }, (_, n) => ["--image-pull-secret", `regcred-${n}`]).flat(),
      /--image-pull-secret: at most 16 \(got 17\)/,
    ],
    ["a gateway address without a port", ["--risk-address", "demo=host"], /VENUE=HOST:PORT/],
    ["an unknown flag", ["--frobnicate"], /Unknown option '--frobnicate'/],
    ["a port out of range", ["--ops-port", "70000"], /--ops-port must be an integer in 0..65535/],
    ["a bad log level", ["--log-level", "loud"], /--log-level must be/],
    [
      "a sequence status interval of zero",
      ["--sequence-status-seconds", "0"],
      /--sequence-status-seconds must be an integer in 1..3600/,
    ],
  ])("refuses %s with a message naming it", (_name, args, message) => {
    expect(() => parseOperatorArgs(args, {})).toThrow(message);
  });
});
