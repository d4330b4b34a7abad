import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectTo, NatsServer, type NatsServerOptions } from "./nats-server.ts";

/**
 * A real nats-server with one connection and its JetStream clients: what most tests of a
 * stream adapter start in `beforeAll` and close in `afterAll`.
 */
export class JetStreamServer {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;

  private constructor(server: NatsServer, nc: NatsConnection, jsm: JetStreamManager) {
    this.server = server;
    this.nc = nc;
    this.js = jetstream(nc);
    this.jsm = jsm;
  }

  static async start(options: NatsServerOptions = {}): Promise<JetStreamServer> {
    const server = await NatsServer.start(options);
    try {
      const nc = await connectTo(server.url);
      return new JetStreamServer(server, nc, await jetstreamManager(nc));
    } catch (err) {
      await server.dispose();
      throw err;
    }
  }

  get url(): string {
    return this.server.url;
  }

  /** Closes the connection, stops the server and removes its store. */
  async close(): Promise<void> {
    await this.nc.close().catch(() => undefined);
    await this.server.dispose();
  }
}
