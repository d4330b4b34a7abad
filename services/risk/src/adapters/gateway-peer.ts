import { createHash, timingSafeEqual } from "node:crypto";
import {
  credentials,
  Metadata,
  status as GrpcStatus,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from "@grpc/grpc-js";
import {
  GatewayPeerClient,
  type ForwardRequest,
  type ForwardResponse,
  type GatewayPeerServer,
  RECONNECT_CHANNEL_OPTIONS,
} from "@tradeplane/contracts";
import {
  AuthError,
  FailedPreconditionError,
  toGrpcError,
  TradeplaneError,
  UnavailableError,
  ValidationError,
  type Logger,
} from "@tradeplane/platform";
import type { PeerTls } from "./peer-tls.ts";

/** What an owner does with a forwarded request: decide it, or say it is not the owner. */
export type ForwardHandler = (req: ForwardRequest) => Promise<ForwardResponse>;

/**
 * The peer credential: any of the venue's peer tokens (one per line in the token file, so
 * a new one can be added before the old one is removed). Compared by SHA-256 digest in
 * constant time, so neither the answer nor its timing tells how much of a guess was right.
 */
export class PeerTokens {
  private readonly hashes: Buffer[];
  /** The token this replica sends: the first one. */
  readonly own: string;

  constructor(tokens: readonly string[]) {
    if (tokens.length === 0) throw new Error("at least one peer token is required");
    this.hashes = tokens.map(digest);
    this.own = tokens[0]!;
  }

  accepts(metadata: Metadata): boolean {
    const header = String(metadata.get("authorization")[0] ?? "");
    if (!header.startsWith("Bearer ")) return false;
    const hash = digest(header.slice(7));
    let match = false;
    for (const h of this.hashes) if (timingSafeEqual(h, hash)) match = true;
    return match;
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/** The GatewayPeer service of a replica: a peer token, then the owner's decision. */
export function gatewayPeerService(deps: {
  readonly tokens: PeerTokens;
  readonly handle: ForwardHandler;
  readonly logger: Logger;
}): GatewayPeerServer {
  return {
    forward: (call: ServerUnaryCall<ForwardRequest, ForwardResponse>, callback: sendUnaryData<ForwardResponse>) => {
      const run = async (): Promise<ForwardResponse> => {
        if (!deps.tokens.accepts(call.metadata))
          throw new AuthError("UNAUTHENTICATED", "a valid peer token is required");
        if (call.request.request === undefined)
          throw new ValidationError("request: required", [{ path: "request", message: "required" }]);
        return deps.handle(call.request);
      };
      run().then(
        (res) => callback(null, res),
        (err: unknown) => {
          if (!(err instanceof TradeplaneError)) deps.logger.error({ err }, "forwarded request failed");
          callback(toGrpcError(err));
        },
      );
    },
  };
}

/**
 * Clients of the other replicas' GatewayPeer services, one channel per address, kept while
 * the address is in use (a replica's address changes only when it restarts).
 */
export class PeerClients {
  private readonly clients = new Map<string, GatewayPeerClient>();
  private readonly tokens: PeerTokens;
  private readonly timeoutMs: number;
  private readonly tls: PeerTls | undefined;

  /** With `tls`, every channel is mutual TLS (`peer-tls.ts`); without, plaintext. */
  constructor(tokens: PeerTokens, timeoutMs: number, tls?: PeerTls) {
    this.tokens = tokens;
    this.timeoutMs = timeoutMs;
    this.tls = tls;
  }

  /**
   * Forwards a request to the owner at `address`. A refused or unreachable owner is an
   * UnavailableError (the client retries; by then the owner is back or its lease expired),
   * except FAILED_PRECONDITION (not the owner: the caller routes again) and the owner's
   * answers to the request itself (INVALID_ARGUMENT...), which pass through.
   */
  forward(address: string, req: ForwardRequest): Promise<ForwardResponse> {
    const client = this.clientOf(address);
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${this.tokens.own}`);
    return new Promise((resolve, reject) => {
      client.forward(req, metadata, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err === null) resolve(res);
        else reject(peerError(err));
      });
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private clientOf(address: string): GatewayPeerClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      client =
        this.tls === undefined
          ? new GatewayPeerClient(address, credentials.createInsecure(), RECONNECT_CHANNEL_OPTIONS)
          : new GatewayPeerClient(address, this.tls.client, {
              ...RECONNECT_CHANNEL_OPTIONS,
              ...this.tls.channelOptions,
            });
      this.clients.set(address, client);
    }
    return client;
  }
}

/** Thrown by the owner when the forwarded account is not (or no longer) its own. */
export class NotOwnerError extends FailedPreconditionError {
  constructor(account: string) {
    super(`this replica does not own account ${account}`);
  }
}

function peerError(err: ServiceError): Error {
  switch (err.code) {
    case GrpcStatus.FAILED_PRECONDITION:
      return new NotOwnerError("(forwarded)");
    case GrpcStatus.INVALID_ARGUMENT:
      return new ValidationError(err.details, [{ path: "request", message: err.details }]);
    case GrpcStatus.PERMISSION_DENIED:
      return new AuthError("PERMISSION_DENIED", err.details);
    default:
      // UNAUTHENTICATED here is a misconfigured peer token: the client can only retry
      // elsewhere, and the operator sees it in the log of both replicas.
      return new UnavailableError(`the account's owner did not answer: ${err.details}`, { cause: err });
  }
}
