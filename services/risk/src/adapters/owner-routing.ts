import { RejectReason, type ExecutionReport, type ForwardRequest, type ForwardResponse } from "@tradeplane/contracts";
import { timestampOfMs, UnavailableError, type CommandLogWriter, type Logger } from "@tradeplane/platform";
import type { AccountOwners } from "./account-owners.ts";
import { NotOwnerError, type PeerClients } from "./gateway-peer.ts";
import type { OwnerMetrics } from "./owner-metrics.ts";

/** An order request as it travels between replicas. */
export type ForwardedRequest = NonNullable<ForwardRequest["request"]>;
/** An order call's answer, by kind. */
export type ForwardedResponse = NonNullable<ForwardResponse["response"]>;

/** Decides a request here: the order calls' own handlers, with the account already authorised. */
export type LocalDecider = (account: string, request: ForwardedRequest) => Promise<ForwardedResponse>;

export interface OwnerRoutingDeps {
  readonly owners: AccountOwners;
  readonly peers: PeerClients;
  /** This replica's holder id (sent as from_replica, for the owner's logs). */
  readonly holder: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly metrics?: OwnerMetrics;
}

/** The $case of the answer to each kind of forwarded request. */
const RESPONSE_OF: Readonly<Record<ForwardedRequest["$case"], ForwardedResponse["$case"]>> = {
  submit: "submit",
  cancel: "cancel",
  replace: "replace",
  massCancel: "massCancel",
  sessionBatch: "sessionAcks",
  cancelOnDisconnect: "massCancel",
};

/** How many times a request is routed again (a FENCED refusal, an owner that just lost the account). */
const MAX_REROUTES = 2;

/**
 * Where each order request of an account is decided, with several gateway replicas (ADR
 * 0003): here when this replica owns the account (acquiring it first when it is free),
 * else at its owner over GatewayPeer. A request the engine refused as FENCED had no effect
 * (the engine refuses before anything else), so it is routed again: this replica dropped
 * the account, and the new owner decides it. A request forwarded to us is decided here or
 * refused with FAILED_PRECONDITION, never forwarded on.
 */
export class OwnerRouting {
  private readonly deps: OwnerRoutingDeps;

  constructor(deps: OwnerRoutingDeps) {
    this.deps = deps;
  }

  /** The epoch this replica writes the account's commands with; undefined when it does not decide them. */
  epochOf(account: string): number | undefined {
    return this.deps.owners.epochOf(account);
  }

  /** A client's request, received on this replica. */
  async run(
    account: string,
    principal: string,
    request: ForwardedRequest,
    decide: LocalDecider,
  ): Promise<ForwardedResponse> {
    const { owners, peers, timeoutMs } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const route = await owners.route(account, false, timeoutMs);
      if (route.kind === "retry" || attempt > MAX_REROUTES)
        throw new UnavailableError("the account is being handed over between gateway replicas; retry");
      if (route.kind === "decide") {
        const response = await decide(account, request);
        if (!wasFenced(response)) return response;
        this.deps.metrics?.fencedRefusals.inc();
        owners.fencedReject(account);
        continue;
      }
      if (route.kind !== "forward") continue; // route() resolves acquire and wait itself
      try {
        const answer = await peers.forward(route.address, {
          account,
          principal,
          fromReplica: this.deps.holder,
          request,
        });
        if (answer.response === undefined || answer.response.$case !== RESPONSE_OF[request.$case])
          throw new UnavailableError("the account's owner gave no answer of the kind asked for");
        this.deps.metrics?.forwarded.inc({ outcome: "answered" });
        return answer.response;
      } catch (err) {
        this.deps.metrics?.forwarded.inc({
          outcome:
            err instanceof NotOwnerError ? "not_owner" : err instanceof UnavailableError ? "unavailable" : "error",
        });
        if (!(err instanceof NotOwnerError)) throw err;
        // Our view of the owners bucket is behind the owner's: route again once it moved.
      }
    }
  }

  /** A request another replica forwarded to us: ours to decide, or FAILED_PRECONDITION. */
  async forwarded(req: ForwardRequest, decide: LocalDecider): Promise<ForwardResponse> {
    const request = req.request!;
    for (let attempt = 0; attempt <= MAX_REROUTES; attempt++) {
      const route = await this.deps.owners.route(req.account, true, this.deps.timeoutMs);
      if (route.kind !== "decide") throw new NotOwnerError(req.account);
      const response = await decide(req.account, request);
      if (!wasFenced(response)) return { response };
      this.deps.metrics?.fencedRefusals.inc();
      this.deps.owners.fencedReject(req.account);
    }
    throw new NotOwnerError(req.account);
  }
}

/** Whether the engine refused the request's command because its owner epoch was fenced. */
function wasFenced(response: ForwardedResponse): boolean {
  const fenced = (r: ExecutionReport | undefined) => r?.rejectReason === RejectReason.FENCED;
  switch (response.$case) {
    case "submit":
    case "replace":
      return response.value.reports.some(fenced);
    case "cancel":
      return fenced(response.value.report);
    case "massCancel":
    case "sessionAcks":
      // A session's acks say "stored", not the engine's outcome: a FENCED refusal reaches the
      // session as a REJECTED report, and the new owner's AccountFenced drops the account here.
      return false;
  }
}

/**
 * The fence port of AccountOwners: FenceAccountCommand{epoch} for the account, one per
 * partition, each carrying the epoch as its owner_epoch too. The AccountFenced events come
 * back through the event follower. Resolves with each partition's fence entry (stream sequence).
 */
export function fenceWriter(
  log: CommandLogWriter,
  partitions: readonly number[],
  source: string,
): (account: string, epoch: number) => Promise<ReadonlyMap<number, number>> {
  return async (account, epoch) => {
    const written = partitions.map((partition) =>
      log.append(partition, {
        timestamp: timestampOfMs(Date.now()),
        account,
        source,
        ownerEpoch: epoch,
        body: { $case: "fenceAccount", value: { epoch } },
      }),
    );
    const acks = await Promise.all(written);
    return new Map(partitions.map((p, i) => [p, acks[i]!.entrySeq]));
  };
}
