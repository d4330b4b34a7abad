export { findBinary, findKubeBinary, MissingBinaryError, REPO_ROOT, TOOLS_BIN, type KubeBinary } from "./binaries.ts";
export {
  AUDIT_POLICY,
  KubeCluster,
  type AuditEvent,
  type KubeClusterOptions,
  type KubeResponse,
} from "./kube-cluster.ts";
export { freePort } from "./free-port.ts";
export { connectTo, NatsCluster, NatsServer, waitForJetStream, type NatsServerOptions } from "./nats-server.ts";
export { JetStreamServer } from "./jetstream-server.ts";
export { unary } from "./grpc-call.ts";
export { bearer, limitOrder, OrderEntryCalls, type LimitOrder } from "./order-entry-calls.ts";
export { grpcHealth } from "./grpc-health.ts";
export {
  batchedSeqs,
  commandStream,
  prng,
  REFERENCE_PRICE,
  TEST_INSTRUMENTS,
  testInstrumentSettings,
} from "./command-stream.ts";
export { newLimitOrder, type LimitCommand } from "./engine-commands.ts";
export { DemoVenue, type DemoVenueState } from "./demo-venue.ts";
export { retry } from "./retry.ts";
export { ServiceProcess, type ServiceProcessOptions } from "./service-process.ts";
export { ThrowawayPki, type IssuedCert } from "./throwaway-pki.ts";
export { StandInCollector, type ReceivedSpan } from "./otlp-collector.ts";
export { NatsTrust } from "./nats-trust.ts";
export {
  buildImages,
  Container,
  CONTAINERS_CONF,
  podman,
  PodmanError,
  type BuiltImage,
  type ContainerOptions,
  type ContainerState,
  type Mount,
  type ProcessIdentity,
} from "./podman.ts";
export { helm, HelmError, type HelmOptions } from "./helm.ts";
export { findPostgresBinDir, PostgresServer, type PostgresServerOptions } from "./postgres-server.ts";
export {
  PrometheusServer,
  type ActiveTarget,
  type PrometheusOptions,
  type QueryResult,
  type ScrapeTarget,
} from "./prometheus.ts";
export { CLI_BIN, runTradeplane, type CliRun } from "./cli-run.ts";
export { EXAMPLE_STRATEGIES, EXAMPLE_VENUE, LocalVenueRun, localPortBase, type UpOptions } from "./local-venue.ts";
export { KubeletPlayer } from "./kubelet-player.ts";
export { OperatorProcess } from "./operator-process.ts";
