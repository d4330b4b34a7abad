/**
 * Which gateway replica decides an account's orders (ADR 0003, "Gateway side"): each account is
 * owned by at most one replica at a time through a lease key in the venue's owners bucket. The
 * KV revision at which a replica acquired the key is its epoch, a fencing token the engine
 * checks on every command of the account. Pure: this module holds the per-account state
 * machine of one replica and the two decisions taken on every request (who decides it, and
 * whether a lease may be taken over); the adapter `account-owners.ts` gathers the facts.
 *
 *   unowned --acquire--> acquiring --acquired(epoch)--> fencing --all partitions fenced, and
 *      ^                     |                            |  window counted or elapsed--> ready
 *      |                  failed                      superseded / lease lost              |
 *      +---------------------+-----------------------------+----- released <-- lost <------+
 */

/** The phase of one account on this replica. */
export type Ownership =
  | { readonly phase: "unowned" }
  | { readonly phase: "acquiring" }
  /**
   * Lease held at `epoch`; FenceAccountCommand{epoch} written to every partition. Decides
   * nothing until every partition in `unfenced` has answered with AccountFenced and the
   * order-rate window holds the previous owner's orders of the last second (counted from the
   * log) or has passed (`windowEndsAtMs`, set once the last partition answered).
   */
  | {
      readonly phase: "fencing";
      readonly epoch: number;
      readonly unfenced: ReadonlySet<number>;
      readonly windowEndsAtMs: number | undefined;
    }
  /** Decides the account's orders; every command it writes carries `epoch`. */
  | { readonly phase: "ready"; readonly epoch: number }
  /** The lease or the fence went to another replica: answer in-flight requests with "retry", then forget. */
  | { readonly phase: "lost"; readonly epoch: number; readonly why: LostReason };

export type LostReason = "lease-lost" | "fenced-by-engine" | "superseded" | "released";

export type OwnershipInput =
  | { readonly kind: "acquire-started" }
  | { readonly kind: "acquire-failed" }
  /** The CAS on the owners key succeeded at KV revision `epoch`; `partitions` are the venue's. */
  | { readonly kind: "acquired"; readonly epoch: number; readonly partitions: readonly number[] }
  /** An AccountFenced event of `partition`, with the partition's fence for the account after it. */
  | { readonly kind: "partition-fenced"; readonly partition: number; readonly epoch: number; readonly nowMs: number }
  /** Time passed (the adapter's monotonic clock). */
  | { readonly kind: "tick"; readonly nowMs: number }
  /**
   * The order-rate window now holds the account's orders of the last second before the
   * fences, read from the command log (`takeover-rate-window.ts`): no need to wait it out.
   */
  | { readonly kind: "window-counted" }
  /** Renewal failed by CAS, or the watch showed the key held by another replica. */
  | { readonly kind: "lease-lost" }
  /** The engine refused one of our commands with REJECT_REASON_FENCED. */
  | { readonly kind: "fenced-reject" }
  /** We stop owning on our own (shutdown), or the lost account's requests are all answered. */
  | { readonly kind: "released" };

export const UNOWNED: Ownership = Object.freeze({ phase: "unowned" });

/**
 * The order-rate window (`order-rate-window.ts`: orders in the last second). Once every
 * partition is fenced, a new owner reads the account's orders of the last second from the
 * command log into its window and decides at once ("window-counted"). Should the log not be
 * read, it waits one window after the last fence: every order the previous owner admitted is
 * then out of the window, so an empty throttle is exact too.
 */
export const ORDER_RATE_WINDOW_MS = 1_000;

export function nextOwnership(state: Ownership, input: OwnershipInput): Ownership {
  switch (input.kind) {
    case "acquire-started":
      return state.phase === "unowned" ? { phase: "acquiring" } : state;
    case "acquire-failed":
      return state.phase === "acquiring" ? UNOWNED : state;
    case "acquired":
      if (state.phase !== "acquiring") return state;
      if (input.partitions.length === 0) return { phase: "ready", epoch: input.epoch };
      return { phase: "fencing", epoch: input.epoch, unfenced: new Set(input.partitions), windowEndsAtMs: undefined };
    case "partition-fenced": {
      if (state.phase !== "fencing" && state.phase !== "ready") return state;
      // A fence above ours: another replica took the account; ours can write nothing more.
      if (input.epoch > state.epoch) return { phase: "lost", epoch: state.epoch, why: "superseded" };
      if (state.phase === "ready" || !state.unfenced.has(input.partition)) return state;
      const unfenced = new Set(state.unfenced);
      unfenced.delete(input.partition);
      const windowEndsAtMs = unfenced.size === 0 ? input.nowMs + ORDER_RATE_WINDOW_MS : undefined;
      return { phase: "fencing", epoch: state.epoch, unfenced, windowEndsAtMs };
    }
    case "tick":
      if (state.phase === "fencing" && state.windowEndsAtMs !== undefined && input.nowMs >= state.windowEndsAtMs)
        return { phase: "ready", epoch: state.epoch };
      return state;
    case "window-counted":
      if (state.phase === "fencing" && state.unfenced.size === 0) return { phase: "ready", epoch: state.epoch };
      return state;
    case "lease-lost":
      return held(state) ? { phase: "lost", epoch: state.epoch, why: "lease-lost" } : leaveAcquiring(state);
    case "fenced-reject":
      return held(state) ? { phase: "lost", epoch: state.epoch, why: "fenced-by-engine" } : state;
    case "released":
      return UNOWNED;
  }
}

function held(state: Ownership): state is Extract<Ownership, { phase: "fencing" | "ready" }> {
  return state.phase === "fencing" || state.phase === "ready";
}

function leaveAcquiring(state: Ownership): Ownership {
  return state.phase === "acquiring" ? UNOWNED : state;
}

/** An entry of the owners bucket as a replica sees it through its watch. */
export interface OwnerEntry {
  readonly holder: string;
  /** The holder's internal GatewayPeer address (host:port). */
  readonly address: string;
  /** The key's current revision (renewals move it). */
  readonly revision: number;
  /** When this replica last saw the revision change, on its own monotonic clock. */
  readonly seenAtMs: number;
}

/**
 * Whether the lease on an account may be taken: it may when nobody holds it, and when its
 * holder has not renewed it for `ttlMs` as judged on our own monotonic clock (so clock skew
 * between hosts cannot shorten a lease). The take is a compare-and-set on the revision we saw,
 * so of two replicas deciding the same, one wins. A lease that is ours is never "taken".
 */
export type TakeoverDecision =
  | { readonly take: false; readonly why: "held-by-us" | "held-by-other" }
  | { readonly take: true; readonly previousRevision: number | undefined };

export function takeoverDecision(
  owner: OwnerEntry | undefined,
  self: string,
  nowMs: number,
  ttlMs: number,
): TakeoverDecision {
  if (owner === undefined) return { take: true, previousRevision: undefined };
  if (owner.holder === self) return { take: false, why: "held-by-us" };
  if (nowMs - owner.seenAtMs < ttlMs) return { take: false, why: "held-by-other" };
  return { take: true, previousRevision: owner.revision };
}

/** What a replica does with a request for an account. */
export type Route =
  /** Decide it here; write its commands with `epoch`. */
  | { readonly kind: "decide"; readonly epoch: number }
  /** This replica is taking the account (or fencing it): wait until it is ready, then route again. */
  | { readonly kind: "wait" }
  /** Take the lease (CAS from `previousRevision`, create when undefined), then route again. */
  | { readonly kind: "acquire"; readonly previousRevision: number | undefined }
  /** Send it to the owner over GatewayPeer and answer the client with the owner's answer. */
  | { readonly kind: "forward"; readonly holder: string; readonly address: string }
  /**
   * Answer "retry" (UNAVAILABLE): a request that was already forwarded is never forwarded
   * again (two replicas with different views of the owners bucket would bounce it), and an
   * account we just lost has no decider until its new owner is ready.
   */
  | { readonly kind: "retry"; readonly why: "moved" | "losing" };

export interface RouteFacts {
  readonly self: string;
  readonly ownership: Ownership;
  readonly owner: OwnerEntry | undefined;
  /** The request came from another replica over GatewayPeer. */
  readonly forwarded: boolean;
  readonly nowMs: number;
  readonly ttlMs: number;
}

export function routeRequest(f: RouteFacts): Route {
  const { ownership } = f;
  if (ownership.phase === "ready") return { kind: "decide", epoch: ownership.epoch };
  if (ownership.phase === "acquiring" || ownership.phase === "fencing") return { kind: "wait" };
  if (ownership.phase === "lost") return { kind: "retry", why: "losing" };
  const takeover = takeoverDecision(f.owner, f.self, f.nowMs, f.ttlMs);
  if (takeover.take) return { kind: "acquire", previousRevision: takeover.previousRevision };
  // The bucket names us but we hold no state for it: a lease of our previous process (the
  // holder id carries a per-process nonce, so this is a lease we renewed and forgot, e.g. after
  // a restart of the ownership adapter). Take it over by CAS: the new epoch fences the old one.
  if (takeover.why === "held-by-us") return { kind: "acquire", previousRevision: f.owner!.revision };
  if (f.forwarded) return { kind: "retry", why: "moved" };
  return { kind: "forward", holder: f.owner!.holder, address: f.owner!.address };
}
