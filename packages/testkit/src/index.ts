export { findBinary, MissingBinaryError, REPO_ROOT, TOOLS_BIN } from "./binaries.ts";
export { freePort } from "./free-port.ts";
export { connectTo, NatsCluster, NatsServer, type NatsServerOptions } from "./nats-server.ts";
