import { status as GrpcStatus, type Metadata, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { malformedRequest, toGrpcError } from "./grpc-server.ts";
import type { Logger } from "./logger.ts";

/**
 * A grpc-js unary handler from an async function: undecodable requests get
 * INVALID_ARGUMENT, our errors their mapped status, anything else INTERNAL (logged).
 */
export function unaryHandler<Req, Res>(logger: Logger, handler: (req: Req, metadata: Metadata) => Promise<Res> | Res) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const malformed = malformedRequest(call.request);
    if (malformed !== undefined) {
      callback({ code: GrpcStatus.INVALID_ARGUMENT, details: malformed, message: malformed });
      return;
    }
    Promise.resolve()
      .then(() => handler(call.request, call.metadata))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e = toGrpcError(err);
          if (e.code === GrpcStatus.INTERNAL) logger.error({ err }, "call failed");
          callback(e);
        },
      );
  };
}

/** The bearer token of a call, or "". */
export function bearerToken(metadata: Metadata): string {
  const header = String(metadata.get("authorization")[0] ?? "");
  return header.startsWith("Bearer ") ? header.slice(7) : "";
}
