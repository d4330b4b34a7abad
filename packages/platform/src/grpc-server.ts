import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { DEFAULT_GRPC_REFLECTION, type GrpcTlsSettings } from "./config.ts";
import { addReflection } from "./grpc-reflection.ts";
import { boundedStatusMessage, requestBoundsProblem } from "./request-bounds.ts";
import { grpcServerCredentials } from "./grpc-tls.ts";
import type { Health } from "./health.ts";
import type { Logger } from "./logger.ts";
import { TradeplaneError } from "./errors.ts";

export interface GrpcServiceBinding {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
  /** Fully qualified name, e.g. `tradeplane.v1.VenueAdmin`, for gRPC health. */
  readonly name: string;
}

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly services: readonly GrpcServiceBinding[];
  readonly health: Health;
  readonly logger: Logger;
  /** TLS from PEM files (the `grpcTls` setting); plaintext when unset. */
  readonly tls?: GrpcTlsSettings;
  /** Ready-made credentials instead of `tls` (not both); plaintext when neither is set. */
  readonly credentials?: ServerCredentials;
  /** Serve gRPC server reflection (the `grpcReflection` setting). Default DEFAULT_GRPC_REFLECTION. */
  readonly reflection?: boolean;
  /** Where the .proto files that reflection describes live; the repository's proto/ by default. */
  readonly protoRoot?: string;
  /** Largest message accepted, in bytes. */
  readonly maxReceiveMessageBytes?: number;
}

/** The gRPC settings of a service's config that `startGrpcServer` takes as they are. */
export function grpcServerSettings(config: {
  readonly grpcReflection?: boolean | undefined;
  readonly grpcTls?: GrpcTlsSettings | undefined;
}): Pick<GrpcServerOptions, "reflection" | "tls"> {
  return {
    reflection: config.grpcReflection ?? DEFAULT_GRPC_REFLECTION,
    ...(config.grpcTls === undefined ? {} : { tls: config.grpcTls }),
  };
}

export interface GrpcServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

const DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;
const DEFAULT_GRACEFUL_CLOSE_MS = 5_000;

/**
 * A grpc-js server with the standard health service (`grpc.health.v1.Health`) following
 * the process Health: SERVING when ready, NOT_SERVING otherwise, for "" and every service;
 * server reflection describing what it hosts (unless switched off); TLS or mutual TLS
 * when `tls` is set (files read and checked before binding: a bad one is a ConfigError).
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  if (options.tls !== undefined && options.credentials !== undefined)
    throw new TypeError("startGrpcServer: pass tls or credentials, not both");
  const credentials =
    options.credentials ??
    (options.tls === undefined ? ServerCredentials.createInsecure() : await grpcServerCredentials(options.tls));
  const server = new Server({
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
    "grpc.keepalive_permit_without_calls": 1,
    // channelz (grpc-js's per-call tracing for its admin service, which no service registers)
    // allocates on every call: 2.4% of the gateway's allocation under load.
    "grpc.enable_channelz": 0,
  });
  for (const service of options.services) server.addService(guardDecoding(service.definition), service.implementation);
  const names = ["", ...options.services.map((s) => s.name)];
  const grpcHealth = new HealthImplementation(Object.fromEntries(names.map((n) => [n, "NOT_SERVING"])));
  grpcHealth.addToServer(server);
  const apply = (ready: boolean): void => {
    for (const name of names) grpcHealth.setStatus(name, ready ? "SERVING" : "NOT_SERVING");
  };
  apply(options.health.report().ready);
  options.health.onChange(apply);
  const reflection = options.reflection ?? DEFAULT_GRPC_REFLECTION;
  if (reflection) {
    const undescribed = addReflection(server, names.slice(1), options.protoRoot);
    if (undescribed.length > 0)
      options.logger.warn({ services: undescribed }, "no .proto defines these services: reflection omits them");
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, credentials, (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
  options.logger.info(
    { host: options.host, port, services: names.slice(1), transport: transportOf(options), reflection },
    "gRPC server listening",
  );
  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, DEFAULT_GRACEFUL_CLOSE_MS);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

function transportOf(options: GrpcServerOptions): "plaintext" | "tls" | "mtls" | "custom" {
  if (options.credentials !== undefined) return "custom";
  if (options.tls === undefined) return "plaintext";
  return options.tls.requireClientCert === true ? "mtls" : "tls";
}

/** The gRPC status for an error: explicit for ours, INTERNAL for anything unexpected. */
export function grpcStatusOf(err: unknown): GrpcStatus {
  if (err instanceof TradeplaneError) {
    switch (err.code) {
      case "INVALID_ARGUMENT":
        return GrpcStatus.INVALID_ARGUMENT;
      case "UNAUTHENTICATED":
        return GrpcStatus.UNAUTHENTICATED;
      case "PERMISSION_DENIED":
        return GrpcStatus.PERMISSION_DENIED;
      case "NOT_FOUND":
        return GrpcStatus.NOT_FOUND;
      case "UNAVAILABLE":
        return GrpcStatus.UNAVAILABLE;
      case "FAILED_PRECONDITION":
        return GrpcStatus.FAILED_PRECONDITION;
      case "RESOURCE_EXHAUSTED":
        return GrpcStatus.RESOURCE_EXHAUSTED;
      case "UNIMPLEMENTED":
        return GrpcStatus.UNIMPLEMENTED;
      case "ALREADY_EXISTS":
        return GrpcStatus.ALREADY_EXISTS;
      case "ABORTED":
        return GrpcStatus.ABORTED;
      default:
        return GrpcStatus.INTERNAL;
    }
  }
  return GrpcStatus.INTERNAL;
}

/** A grpc-js callback error for a thrown value, with a message safe to show clients. */
export function toGrpcError(err: unknown): { code: GrpcStatus; details: string; message: string } {
  const code = grpcStatusOf(err);
  const details = err instanceof TradeplaneError ? boundedStatusMessage(err.message) : "internal error";
  return { code, details, message: details };
}

const MALFORMED = Symbol.for("tradeplane.malformed-request");

/**
 * grpc-js answers a request that fails to decode with INTERNAL; a client that sent bad
 * bytes should get INVALID_ARGUMENT. So decoding never throws: a request that does not
 * decode reaches the handler as a marker, which `malformedRequest` recognises. So does one
 * that decodes but breaks the bounds every request meets (`request-bounds.ts`).
 */
export function guardDecoding(definition: ServiceDefinition): ServiceDefinition {
  const guarded: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    guarded[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        let request: unknown;
        try {
          request = method.requestDeserialize(bytes);
        } catch (err) {
          return { [MALFORMED]: boundedStatusMessage((err as Error).message) };
        }
        // Bounded before any handler looks anything up with it, logs it or echoes it.
        const problem = requestBoundsProblem(request);
        return problem === undefined ? request : { [MALFORMED]: problem };
      },
    };
  }
  return guarded as ServiceDefinition;
}

/** Why a request did not decode, or undefined for a request that did. */
export function malformedRequest(request: unknown): string | undefined {
  if (typeof request !== "object" || request === null || !(MALFORMED in request)) return undefined;
  return `request does not decode: ${String((request as Record<symbol, unknown>)[MALFORMED])}`;
}
