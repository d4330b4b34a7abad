import { status as GrpcStatus, type ServerWritableStream } from "@grpc/grpc-js";
import type {
  ExecutionReport,
  StreamExecutionReportsRequest,
  StreamExecutionReportsResponse,
} from "@tradeplane/contracts";
import { malformedRequest, timestampOfMs, toGrpcError } from "@tradeplane/platform";
import type { OrderProjection } from "@tradeplane/positions/order-projection";
import type { AccountRegistry } from "./accounts.ts";
import type { EventFollower } from "./event-follower.ts";
import type { Caller } from "./order-entry-auth.ts";

/** Reports buffered for one slow stream before it is ended (it resumes from its last sequence). */
export const MAX_QUEUED_REPORTS = 10_000;
const HEARTBEAT_MS = 5_000;

export interface ExecutionReportStreamDeps {
  readonly accounts: AccountRegistry;
  readonly projection: OrderProjection;
  readonly follower: EventFollower;
  readonly authorise: (caller: Caller, requested: string) => string;
}

/**
 * OrderEntry.StreamExecutionReports: the account's kept reports from the requested sequence,
 * then live ones, with heartbeats; a client that reads too slowly is cut off and resumes.
 */
export function streamExecutionReports(
  deps: ExecutionReportStreamDeps,
): (call: ServerWritableStream<StreamExecutionReportsRequest, StreamExecutionReportsResponse>) => void {
  return (call) => {
    let account: string;
    const malformed = malformedRequest(call.request);
    if (malformed !== undefined) {
      call.emit("error", Object.assign(new Error(malformed), { code: GrpcStatus.INVALID_ARGUMENT }));
      return;
    }
    try {
      account = deps.authorise(call, call.request.account);
    } catch (err) {
      call.emit("error", Object.assign(new Error((err as Error).message), toGrpcError(err)));
      return;
    }
    const from = call.request.fromSequence ?? deps.projection.lastReportSequence(account) + 1;
    let next = Math.max(1, from);
    // Subscribe first (buffering), then write the kept backlog, then go live: nothing is
    // missed between the two and nothing is sent twice (sequences only move forward).
    const queued: ExecutionReport[] = [];
    let live = false;
    let waitingForDrain = false;
    const send = (report: ExecutionReport): boolean => {
      if (report.sequence < next) return true;
      next = report.sequence + 1;
      return call.write({ sequence: report.sequence, message: { $case: "report", value: report } });
    };
    const flush = (): void => {
      waitingForDrain = false;
      while (queued.length > 0) {
        if (!send(queued.shift()!)) {
          // Back-pressure: wait for the client; a client that never reads is cut off below.
          waitingForDrain = true;
          call.once("drain", flush);
          return;
        }
      }
    };
    const unsubscribe = deps.follower.onReport(account, (report) => {
      queued.push(report);
      if (queued.length > MAX_QUEUED_REPORTS) {
        unsubscribe();
        call.emit(
          "error",
          Object.assign(new Error("client reads too slowly: resume from the last sequence received"), {
            code: GrpcStatus.RESOURCE_EXHAUSTED,
          }),
        );
        return;
      }
      if (live && !waitingForDrain) flush();
    });
    const backlog = deps.projection.reportsSince(account, next - 1);
    if (backlog === undefined) {
      unsubscribe();
      call.emit(
        "error",
        Object.assign(
          new Error("reports before the requested sequence are no longer kept: reconcile with ListOpenOrders"),
          { code: GrpcStatus.OUT_OF_RANGE },
        ),
      );
      return;
    }
    queued.unshift(...backlog);
    live = true;
    flush();
    const heartbeat = setInterval(() => {
      if (!waitingForDrain)
        call.write({
          sequence: next - 1,
          message: { $case: "heartbeat", value: { time: timestampOfMs(Date.now()) } },
        });
    }, HEARTBEAT_MS);
    // A token revoked while its stream is open ends the stream once this replica's watch shows it.
    const revoked = deps.accounts.whenRevoked(call.metadata, () =>
      call.emit("error", Object.assign(new Error("token revoked"), { code: GrpcStatus.UNAUTHENTICATED })),
    );
    const end = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      revoked();
    };
    call.on("cancelled", end);
    call.on("close", end);
    call.on("error", end);
  };
}
