import {
  credentials,
  Metadata,
  type ChannelCredentials,
  type ServerCredentials,
  type ServiceError,
} from "@grpc/grpc-js";
import {
  GatewayPeerClient,
  GatewayPeerService,
  type ForwardRequest,
  type ForwardResponse,
} from "@tradeplane/contracts";
import { createLogger, Health, startGrpcServer, type GrpcServer } from "@tradeplane/platform";
import { gatewayPeerService, PeerTokens } from "../../src/adapters/gateway-peer.ts";
import { order } from "./gateway-fixture.ts";

/**
 * A GatewayPeer server for tests of the replica-to-replica API: real gRPC on loopback, an
 * owner that keeps every request it is handed and answers from a table.
 */
const peerLogger = createLogger({ service: "risk-test", level: "silent" });

export const PEER_TOKEN = "peer-token-of-the-venue-0123456789abcdef";

/** A submit forwarded by replica gw1-abc for alice. */
export const FORWARDED_SUBMIT: ForwardRequest = {
  account: "alice",
  principal: "alice",
  fromReplica: "gw1-abc",
  request: { $case: "submit", value: order({ account: "alice" }) },
};

/** The owner's answer to it: a submit with no reports. */
export const SUBMITTED: ForwardResponse = { response: { $case: "submit", value: { reports: [] } } };

export interface PeerServer {
  readonly server: GrpcServer;
  /** Loopback address, as a replica dials a pod: by IP. */
  readonly address: string;
  /** The requests the owner was handed, in order. */
  readonly seen: ForwardRequest[];
}

/** Starts the server; `answer` is the owner (SUBMITTED unless given), `credentials` its TLS. */
export async function startPeerServer(options: {
  readonly tokens: readonly string[];
  readonly credentials?: ServerCredentials;
  readonly answer?: (req: ForwardRequest) => ForwardResponse;
}): Promise<PeerServer> {
  const seen: ForwardRequest[] = [];
  const server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    health: new Health(),
    logger: peerLogger,
    reflection: false,
    services: [
      {
        name: "tradeplane.v1.GatewayPeer",
        definition: GatewayPeerService,
        implementation: gatewayPeerService({
          tokens: new PeerTokens([...options.tokens]),
          logger: peerLogger,
          handle: async (req): Promise<ForwardResponse> => {
            seen.push(req);
            return options.answer?.(req) ?? SUBMITTED;
          },
        }),
      },
    ],
  });
  return { server, address: `127.0.0.1:${server.port}`, seen };
}

/**
 * One Forward call as a raw client makes it (no PeerClients in between): the gRPC error or
 * the answer. `token` undefined sends no authorization; the channel is plaintext unless given.
 */
export function forwardCall(
  address: string,
  call: {
    readonly token: string | undefined;
    readonly request?: ForwardRequest;
    readonly channel?: ChannelCredentials;
    /** The name the server's certificate is checked as, when the channel is TLS. */
    readonly serverName?: string;
  },
): Promise<ServiceError | ForwardResponse> {
  const client = new GatewayPeerClient(
    address,
    call.channel ?? credentials.createInsecure(),
    call.serverName === undefined
      ? {}
      : { "grpc.ssl_target_name_override": call.serverName, "grpc.default_authority": call.serverName },
  );
  const metadata = new Metadata();
  if (call.token !== undefined) metadata.set("authorization", `Bearer ${call.token}`);
  return new Promise((resolve) =>
    client.forward(call.request ?? FORWARDED_SUBMIT, metadata, { deadline: Date.now() + 5_000 }, (err, res) => {
      client.close();
      resolve(err ?? res);
    }),
  );
}
