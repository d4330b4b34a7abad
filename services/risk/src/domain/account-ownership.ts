/**
 * Which gateway replica decides an account's orders (ADR 0003, "Gateway side"): each account is
 * owned by at most one replica at a time through a lease key in the venue's owners bucket. The
 * KV revision at which a replica acquired the key is its epoch, a fencing token the engine
 * checks on every command of the account. A replica shows it is alive through one liveness key
 * of its own in the same bucket, not by rewriting its account keys (those are written only on
 * acquire and release), so staying alive costs one write per replica whatever it owns. Pure:
 * this module holds the per-account state machine of one replica and the two decisions taken
 * on every request (who decides it, and whether a lease may be taken over), given the facts
 * the adapter `account-owners.ts` gathers.
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
  /**
   * The watch showed the account's key held by another replica or deleted, or this replica's
   * liveness key was taken or deleted by someone else (its renewal failed by CAS): others may
   * then take every account it holds, so it loses them all.
   */
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

/**
 * The owners bucket's keys that are not accounts: one liveness key per replica, named for its
 * holder id. An account name starts with a letter or a digit (`domain/account-validation.ts`,
 * the proto's rule, checked before a request reaches the route; RiskAdmin creates no other),
 * so no account key can start with "_" and the two kinds of key never collide.
 */
export const LIVENESS_KEY_PREFIX = "_liveness.";

/**
 * The liveness key of a holder. A holder id is an instance id (any string: a hostname by
 * default) plus a nonce, and a KV key allows only [-/_=.A-Za-z0-9] with no empty token, so
 * every character but [A-Za-z0-9_-] is written as "=" and the hex of its UTF-8 bytes: one key
 * per holder, never two holders on one key.
 */
export function livenessKey(holder: string): string {
  if (holder === "") return `${LIVENESS_KEY_PREFIX}=`;
  let key = LIVENESS_KEY_PREFIX;
  for (const byte of new TextEncoder().encode(holder)) {
    const c = String.fromCharCode(byte);
    key += /[A-Za-z0-9_-]/.test(c) ? c : `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return key;
}

export function isLivenessKey(key: string): boolean {
  return key.startsWith(LIVENESS_KEY_PREFIX);
}

/** What a replica writes as the value of an account key and of its liveness key. */
export interface OwnerValue {
  readonly holder: string;
  /** The holder's internal GatewayPeer address (host:port). */
  readonly address: string;
}

/** An account's key in the owners bucket as a replica sees it through its watch. */
export interface OwnerEntry extends OwnerValue {
  /** The key's revision: the holder's epoch, since the key is written only when acquired. */
  readonly revision: number;
  /** When this replica first saw the key at this revision, on its own monotonic clock. */
  readonly seenAtMs: number;
}

/** An account holder's liveness key as a replica sees it through its watch. */
export type HolderLiveness =
  /** The key moved (or was first seen: we cannot know when it moved before) at `seenAtMs`, on our monotonic clock. */
  | { readonly kind: "seen"; readonly seenAtMs: number }
  /** Deleted: the holder stopped cleanly (having released its accounts), or lost its key and with it every account. */
  | { readonly kind: "deleted" }
  /**
   * Never seen: judged from the account key alone. So is a holder of a version without
   * liveness keys, which renews its account keys instead: each renewal is a new revision, seen
   * as a fresh acquisition, so such a holder looks alive while it renews.
   */
  | { readonly kind: "unknown" };

export const LIVENESS_UNKNOWN: HolderLiveness = Object.freeze({ kind: "unknown" });

/**
 * Whether the lease on an account may be taken: it may when nobody holds it, when its holder's
 * liveness key was deleted (a clean stop), and when the holder has shown no sign of life for
 * `ttlMs` as judged on our own monotonic clock (so clock skew between hosts cannot shorten a
 * lease). A sign of life is its liveness key moving, or the account key itself appearing at
 * its revision (a fresh acquisition): the later of the two we saw, so a replica that starts
 * watching, or whose holder's liveness key it has not seen yet, waits a whole ttl. The take is
 * a compare-and-set on the account key's revision we saw, so of two replicas deciding the
 * same, one wins. A lease that is ours is never "taken".
 */
export type TakeoverDecision =
  | { readonly take: false; readonly why: "held-by-us" | "held-by-other" }
  | { readonly take: true; readonly previousRevision: number | undefined };

export interface TakeoverFacts {
  readonly self: string;
  /** The account's key, undefined when nobody holds it. */
  readonly owner: OwnerEntry | undefined;
  /** The liveness of `owner.holder` (unknown when there is no owner). */
  readonly liveness: HolderLiveness;
  readonly nowMs: number;
  readonly ttlMs: number;
}

export function takeoverDecision(f: TakeoverFacts): TakeoverDecision {
  const { owner, liveness } = f;
  if (owner === undefined) return { take: true, previousRevision: undefined };
  if (owner.holder === f.self) return { take: false, why: "held-by-us" };
  if (liveness.kind === "deleted") return { take: true, previousRevision: owner.revision };
  const lastSignOfLife = liveness.kind === "seen" ? Math.max(liveness.seenAtMs, owner.seenAtMs) : owner.seenAtMs;
  if (f.nowMs - lastSignOfLife < f.ttlMs) return { take: false, why: "held-by-other" };
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

export interface RouteFacts extends TakeoverFacts {
  readonly ownership: Ownership;
  /** The request came from another replica over GatewayPeer. */
  readonly forwarded: boolean;
}

export function routeRequest(f: RouteFacts): Route {
  const { ownership } = f;
  if (ownership.phase === "ready") return { kind: "decide", epoch: ownership.epoch };
  if (ownership.phase === "acquiring" || ownership.phase === "fencing") return { kind: "wait" };
  if (ownership.phase === "lost") return { kind: "retry", why: "losing" };
  const takeover = takeoverDecision(f);
  if (takeover.take) return { kind: "acquire", previousRevision: takeover.previousRevision };
  // The bucket names us but we hold no state for it: a lease this process acquired and forgot
  // (the holder id carries a per-process nonce): every held account is dropped when our
  // liveness key was taken or deleted, and the adapter may restart. Take it again by CAS: the
  // new epoch fences the old one.
  if (takeover.why === "held-by-us") return { kind: "acquire", previousRevision: f.owner!.revision };
  if (f.forwarded) return { kind: "retry", why: "moved" };
  return { kind: "forward", holder: f.owner!.holder, address: f.owner!.address };
}
