export { findBinary, MissingBinaryError, REPO_ROOT, TOOLS_BIN } from "./binaries.ts";
export { freePort } from "./free-port.ts";
export { connectTo, NatsCluster, NatsServer, waitForJetStream, type NatsServerOptions } from "./nats-server.ts";
export { unary } from "./grpc-call.ts";
export {
  batchedSeqs,
  commandStream,
  prng,
  REFERENCE_PRICE,
  TEST_INSTRUMENTS,
  testInstrumentSettings,
} from "./command-stream.ts";
export { DemoVenue, type DemoVenueState } from "./demo-venue.ts";
export { retry } from "./retry.ts";
export { ServiceProcess, type ServiceProcessOptions } from "./service-process.ts";
export { ThrowawayPki, type IssuedCert } from "./throwaway-pki.ts";
