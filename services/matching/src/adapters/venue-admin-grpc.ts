import type { Metadata } from "@grpc/grpc-js";
import {
  EngineRole,
  InstrumentState,
  type GetBookRequest,
  type GetBookResponse,
  type GetStatusRequest,
  type GetStatusResponse,
  type LoggedCommand,
  type VenueAdminServer,
} from "@tradeplane/contracts";
import {
  excerpt,
  NotFoundError,
  timestampOfMs,
  unaryHandler,
  ValidationError,
  type AdminAuthority,
  type AdminPermission,
  type CommandLogWriter,
  type Logger,
} from "@tradeplane/platform";
import { usToTimestamp, wireStateOf } from "@tradeplane/matching-core/partition";
import type { EngineRunner } from "./engine-runner.ts";

export interface VenueAdminDeps {
  readonly venue: string;
  readonly partition: number;
  readonly instanceId: string;
  readonly runner: EngineRunner;
  readonly log: CommandLogWriter;
  readonly logger: Logger;
  /** Admin tokens and their roles: every call, reads included, is checked against the permission it needs. */
  readonly admin: AdminAuthority;
  readonly lastSnapshotSeq: () => number;
}

/** The permission each call needs (admin roles grant permissions; see platform's admin-auth.ts). */
export const VENUE_ADMIN_PERMISSIONS = {
  getStatus: "read",
  getBook: "read",
  halt: "venue.operate",
  resume: "venue.operate",
  changeSession: "venue.operate",
} as const satisfies Readonly<Record<string, AdminPermission>>;

const MAX_BOOK_DEPTH = 1_000;
const DEFAULT_BOOK_DEPTH = 10;

/**
 * VenueAdmin for one engine partition: status and book from the running engine; halt,
 * resume and session changes written to the command log (so they replay), never applied
 * directly.
 */
export function venueAdminService(deps: VenueAdminDeps): VenueAdminServer {
  const { runner } = deps;

  /** A call that first checks the caller's admin token and role, then runs with its audit principal. */
  const unary = <Req, Res>(
    method: keyof typeof VENUE_ADMIN_PERMISSIONS,
    handler: (req: Req, principal: string) => Promise<Res> | Res,
  ) =>
    unaryHandler(deps.logger, (req: Req, metadata: Metadata) =>
      handler(req, deps.admin.authorise(metadata, VENUE_ADMIN_PERMISSIONS[method], `VenueAdmin.${method}`)),
    );

  const instrumentsFor = (instrument: string): string[] => {
    const symbols = runner.partition.instruments;
    if (instrument === "") return [...symbols];
    if (!symbols.includes(instrument))
      throw new ValidationError(`instrument ${excerpt(instrument)} is not on partition ${deps.partition}`, [
        { path: "instrument", message: "unknown" },
      ]);
    return [instrument];
  };

  /** One command per instrument, so each can check its own current state. */
  const writeStateChange = async (
    principal: string,
    instruments: string[],
    state: InstrumentState,
    reason: string,
    fromStates: InstrumentState[],
    referencePrice?: number,
  ): Promise<LoggedCommand[]> => {
    const written: LoggedCommand[] = [];
    for (const instrument of instruments) {
      const ack = await deps.log.append(deps.partition, {
        timestamp: timestampOfMs(Date.now()),
        account: principal,
        source: deps.instanceId,
        ownerEpoch: 0,
        body: {
          $case: "setInstrumentState",
          value: { instrument, state, reason, fromStates, ...(referencePrice !== undefined ? { referencePrice } : {}) },
        },
      });
      written.push({ partition: deps.partition, commandSeq: ack.seq });
    }
    deps.logger.info({ principal, instruments, state, reason }, "instrument state change written to the command log");
    return written;
  };

  const requireReason = (reason: string): void => {
    if (reason.trim() === "")
      throw new ValidationError("reason is required for the audit trail", [{ path: "reason", message: "required" }]);
  };

  return {
    getStatus: unary("getStatus", (req: GetStatusRequest): GetStatusResponse => {
      if (req.partition !== undefined && req.partition !== deps.partition)
        throw new NotFoundError(`this engine serves partition ${deps.partition}`);
      const s = runner.status;
      return {
        venue: deps.venue,
        replicas: [
          {
            partition: deps.partition,
            instance: deps.instanceId,
            role: s.role === "primary" ? EngineRole.PRIMARY : EngineRole.STANDBY,
            lastCommandSeq: s.lastCommandSeq,
            logLastCommandSeq: s.lastCommandSeq + s.lag,
            lag: s.lag,
            engineTime: usToTimestamp(runner.partition.engineTimeUs),
            lastSnapshotCommandSeq: deps.lastSnapshotSeq(),
            instruments: [...runner.partition.instruments],
            publishedCommandSeq: s.published.cmdSeq,
            publishedEventIndex: Math.max(0, s.published.index),
          },
        ],
      };
    }),
    getBook: unary("getBook", (req: GetBookRequest): GetBookResponse => {
      const index = runner.partition.instrumentIndex(req.instrument);
      if (index < 0)
        throw new ValidationError(
          `instrument ${req.instrument === "" ? "(empty)" : excerpt(req.instrument)} is not on partition ${deps.partition}`,
          [{ path: "instrument", message: "unknown" }],
        );
      const depth = req.depth === 0 ? DEFAULT_BOOK_DEPTH : Math.min(req.depth, MAX_BOOK_DEPTH);
      const view = runner.partition.engine.book(index, depth);
      const level = (l: { price: number; qty: number; orders: number }) => ({
        price: l.price,
        qty: l.qty,
        orderCount: l.orders,
      });
      return {
        instrument: req.instrument,
        state: wireStateOf(view.state),
        lastCommandSeq: runner.partition.lastSeq,
        bids: [],
        asks: [],
        stops: [],
        bidLevels: view.bids.map(level),
        askLevels: view.asks.map(level),
        lastPrice: view.lastPrice,
      };
    }),
    halt: unary("halt", async (req, principal) => {
      requireReason(req.reason);
      const commands = await writeStateChange(
        principal,
        instrumentsFor(req.instrument),
        InstrumentState.HALTED,
        req.reason,
        [InstrumentState.PRE_OPEN, InstrumentState.CONTINUOUS],
      );
      return { commands };
    }),
    resume: unary("resume", async (req, principal) => {
      const target = req.state === InstrumentState.UNSPECIFIED ? InstrumentState.CONTINUOUS : req.state;
      if (target !== InstrumentState.CONTINUOUS && target !== InstrumentState.PRE_OPEN)
        throw new ValidationError("a halt resumes into CONTINUOUS or PRE_OPEN (a re-opening auction)", [
          { path: "state", message: "must be CONTINUOUS or PRE_OPEN" },
        ]);
      const commands = await writeStateChange(
        principal,
        instrumentsFor(req.instrument),
        target,
        req.reason || "resume",
        [InstrumentState.HALTED],
      );
      return { commands };
    }),
    changeSession: unary("changeSession", async (req, principal) => {
      if (req.state === InstrumentState.UNSPECIFIED)
        throw new ValidationError("state is required", [{ path: "state", message: "required" }]);
      // venue_admin.proto: a session is CLOSED, PRE_OPEN or CONTINUOUS; HALTED is Halt's.
      if (req.state === InstrumentState.HALTED)
        throw new ValidationError("HALTED is set with Halt, not ChangeSession", [
          { path: "state", message: "CLOSED, PRE_OPEN or CONTINUOUS" },
        ]);
      requireReason(req.reason);
      if (req.referencePrice !== undefined && !(Number.isSafeInteger(req.referencePrice) && req.referencePrice > 0))
        throw new ValidationError("reference_price must be a positive number of ticks", [
          { path: "reference_price", message: "must be >= 1" },
        ]);
      if (req.referencePrice !== undefined && req.instrument === "")
        throw new ValidationError("reference_price is for one instrument: name it", [
          { path: "instrument", message: "required with reference_price" },
        ]);
      const commands = await writeStateChange(
        principal,
        instrumentsFor(req.instrument),
        req.state,
        req.reason,
        [],
        req.referencePrice,
      );
      return { commands };
    }),
  };
}
