import { describe, expect, it } from "vitest";
import {
  isLivenessKey,
  LIVENESS_KEY_PREFIX,
  LIVENESS_UNKNOWN,
  livenessKey,
  nextOwnership,
  ORDER_RATE_WINDOW_MS,
  routeRequest,
  takeoverDecision,
  UNOWNED,
  type HolderLiveness,
  type OwnerEntry,
  type Ownership,
  type OwnershipInput,
  type Route,
  type RouteFacts,
  type TakeoverFacts,
} from "../../src/domain/account-ownership.ts";
import { accountNameProblem } from "../../src/domain/account-validation.ts";

const TTL = 1_500;
const fencing = (epoch: number, unfenced: number[], windowEndsAtMs?: number): Ownership => ({
  phase: "fencing",
  epoch,
  unfenced: new Set(unfenced),
  windowEndsAtMs,
});
const ready = (epoch: number): Ownership => ({ phase: "ready", epoch });
const run = (inputs: OwnershipInput[], from: Ownership = UNOWNED): Ownership => inputs.reduce(nextOwnership, from);
const entry = (holder: string, revision: number, seenAtMs: number): OwnerEntry => ({
  holder,
  address: `${holder}:7000`,
  revision,
  seenAtMs,
});
const seen = (seenAtMs: number): HolderLiveness => ({ kind: "seen", seenAtMs });
const DELETED: HolderLiveness = { kind: "deleted" };

describe("nextOwnership", () => {
  it.each<[string, Ownership, OwnershipInput[], Ownership]>([
    ["an account starts unowned", UNOWNED, [], UNOWNED],
    [
      "a request for a free account starts acquiring it",
      UNOWNED,
      [{ kind: "acquire-started" }],
      { phase: "acquiring" },
    ],
    [
      "a lost CAS leaves the account unowned",
      UNOWNED,
      [{ kind: "acquire-started" }, { kind: "acquire-failed" }],
      UNOWNED,
    ],
    [
      "an acquired lease fences every partition before anything is decided",
      { phase: "acquiring" },
      [{ kind: "acquired", epoch: 7, partitions: [0, 1, 2] }],
      fencing(7, [0, 1, 2]),
    ],
    [
      "each AccountFenced at our epoch clears its partition",
      fencing(7, [0, 1, 2]),
      [
        { kind: "partition-fenced", partition: 2, epoch: 7, nowMs: 10 },
        { kind: "partition-fenced", partition: 0, epoch: 7, nowMs: 11 },
      ],
      fencing(7, [1]),
    ],
    [
      "the last fence starts the wait of one order-rate window",
      fencing(7, [1]),
      [{ kind: "partition-fenced", partition: 1, epoch: 7, nowMs: 100 }],
      fencing(7, [], 100 + ORDER_RATE_WINDOW_MS),
    ],
    [
      "a fence seen twice changes nothing",
      fencing(7, [1]),
      [{ kind: "partition-fenced", partition: 0, epoch: 7, nowMs: 100 }],
      fencing(7, [1]),
    ],
    [
      "time passing before every partition answered changes nothing",
      fencing(7, [1]),
      [{ kind: "tick", nowMs: 1e9 }],
      fencing(7, [1]),
    ],
    [
      "the account is not decided before the window ends",
      fencing(7, [], 1_100),
      [{ kind: "tick", nowMs: 1_099 }],
      fencing(7, [], 1_100),
    ],
    ["the account is ready once the window ends", fencing(7, [], 1_100), [{ kind: "tick", nowMs: 1_100 }], ready(7)],
    [
      "the previous owner's orders of the last second counted from the log: ready before the window ends",
      fencing(7, [], 1_100),
      [{ kind: "window-counted" }],
      ready(7),
    ],
    [
      "a count cannot make an account ready while a partition has not answered",
      fencing(7, [1]),
      [{ kind: "window-counted" }],
      fencing(7, [1]),
    ],
    ["a count after the window ended changes nothing", ready(7), [{ kind: "window-counted" }], ready(7)],
    [
      "a count for an account lost meanwhile changes nothing",
      { phase: "lost", epoch: 7, why: "superseded" },
      [{ kind: "window-counted" }],
      { phase: "lost", epoch: 7, why: "superseded" },
    ],
    [
      "a venue without partitions is ready at once",
      { phase: "acquiring" },
      [{ kind: "acquired", epoch: 3, partitions: [] }],
      ready(3),
    ],
    [
      "a fence above ours while fencing: another replica took the account",
      fencing(7, [0, 1]),
      [{ kind: "partition-fenced", partition: 0, epoch: 9, nowMs: 5 }],
      { phase: "lost", epoch: 7, why: "superseded" },
    ],
    [
      "a fence above ours while ready: another replica took the account",
      ready(7),
      [{ kind: "partition-fenced", partition: 0, epoch: 9, nowMs: 5 }],
      { phase: "lost", epoch: 7, why: "superseded" },
    ],
    [
      "a fence below ours (an old owner's, seen late) changes nothing",
      ready(7),
      [{ kind: "partition-fenced", partition: 0, epoch: 4, nowMs: 5 }],
      ready(7),
    ],
    [
      "a failed renewal loses a ready account",
      ready(7),
      [{ kind: "lease-lost" }],
      { phase: "lost", epoch: 7, why: "lease-lost" },
    ],
    [
      "a failed renewal loses an account being fenced",
      fencing(7, [0]),
      [{ kind: "lease-lost" }],
      { phase: "lost", epoch: 7, why: "lease-lost" },
    ],
    [
      "a FENCED reject from the engine loses the account",
      ready(7),
      [{ kind: "fenced-reject" }],
      { phase: "lost", epoch: 7, why: "fenced-by-engine" },
    ],
    ["a lost account is forgotten once released", ready(7), [{ kind: "fenced-reject" }, { kind: "released" }], UNOWNED],
    ["a lease lost while acquiring leaves it unowned", { phase: "acquiring" }, [{ kind: "lease-lost" }], UNOWNED],
    [
      "an acquisition seen after the account was given up is ignored",
      UNOWNED,
      [{ kind: "acquired", epoch: 7, partitions: [0] }],
      UNOWNED,
    ],
    [
      "a lost account stays lost until released",
      { phase: "lost", epoch: 7, why: "lease-lost" },
      [{ kind: "tick", nowMs: 1e9 }, { kind: "acquire-started" }],
      { phase: "lost", epoch: 7, why: "lease-lost" },
    ],
  ])("%s", (_name, from, inputs, expected) => {
    expect(run(inputs, from)).toEqual(expected);
  });
});

describe("takeoverDecision", () => {
  it.each<[string, Pick<TakeoverFacts, "owner" | "liveness" | "nowMs">, ReturnType<typeof takeoverDecision>]>([
    [
      "a key nobody wrote is taken by create",
      { owner: undefined, liveness: LIVENESS_UNKNOWN, nowMs: 0 },
      { take: true, previousRevision: undefined },
    ],
    [
      "our own lease is never taken, whatever our liveness looks like",
      { owner: entry("me", 4, 0), liveness: DELETED, nowMs: 1e9 },
      { take: false, why: "held-by-us" },
    ],
    [
      "an account key never rewritten is held while its holder's liveness key moves",
      { owner: entry("b", 4, 0), liveness: seen(100_000 - 1), nowMs: 100_000 },
      { take: false, why: "held-by-other" },
    ],
    [
      "a holder whose liveness key moved within the ttl holds its account",
      { owner: entry("b", 4, 0), liveness: seen(1_000), nowMs: 1_000 + TTL - 1 },
      { take: false, why: "held-by-other" },
    ],
    [
      "a holder whose liveness key has not moved for the ttl loses its account, taken from the account key's revision",
      { owner: entry("b", 4, 0), liveness: seen(1_000), nowMs: 1_000 + TTL },
      { take: true, previousRevision: 4 },
    ],
    [
      "a holder whose liveness key was deleted (a clean stop) loses its account at once",
      { owner: entry("b", 4, 9_999), liveness: DELETED, nowMs: 10_000 },
      { take: true, previousRevision: 4 },
    ],
    [
      "a holder whose liveness key we never saw is judged from when we first saw the account key: held within the ttl",
      { owner: entry("b", 4, 1_000), liveness: LIVENESS_UNKNOWN, nowMs: 1_000 + TTL - 1 },
      { take: false, why: "held-by-other" },
    ],
    [
      "a holder whose liveness key we never saw is judged from when we first saw the account key: taken after the ttl",
      { owner: entry("b", 4, 1_000), liveness: LIVENESS_UNKNOWN, nowMs: 1_000 + TTL },
      { take: true, previousRevision: 4 },
    ],
    [
      "an account acquired after its holder's liveness key last moved is held for the ttl from the acquisition",
      { owner: entry("b", 9, 5_000), liveness: seen(1_000), nowMs: 5_000 + TTL - 1 },
      { take: false, why: "held-by-other" },
    ],
  ])("%s", (_name, facts, expected) => {
    expect(takeoverDecision({ self: "me", ttlMs: TTL, ...facts })).toEqual(expected);
  });
});

describe("livenessKey", () => {
  it.each<[string, string, string]>([
    ["a pod name and nonce is kept as it is", "risk-7d9f-x2k4p-1a2b3c4d", "_liveness.risk-7d9f-x2k4p-1a2b3c4d"],
    ["a dot (a hostname's) is escaped: it would split the key into tokens", "gw.local-ab", "_liveness.gw=2Elocal-ab"],
    ["an escape character is escaped itself, so two holders never share a key", "a=2E", "_liveness.a=3D2E"],
    ["a character no key may hold is escaped by its UTF-8 bytes", "gw 1/é", "_liveness.gw=201=2F=C3=A9"],
    ["an empty holder still makes a valid key", "", "_liveness.="],
  ])("%s", (_name, holder, key) => {
    expect(livenessKey(holder)).toBe(key);
    expect(key).toMatch(/^[-/_=.A-Za-z0-9]+$/);
    expect(isLivenessKey(key)).toBe(true);
  });

  it.each(["alice", "0day", "acc_1", "acc-1.sub", "A"])("no account name is a liveness key: %s", (name) => {
    expect(accountNameProblem("account", name)).toBeUndefined();
    expect(isLivenessKey(name)).toBe(false);
  });

  it("a name starting with the prefix is not a valid account name", () => {
    expect(accountNameProblem("account", `${LIVENESS_KEY_PREFIX}b-nonce`)).toBeDefined();
  });
});

describe("routeRequest", () => {
  const facts = (over: Partial<RouteFacts>): RouteFacts => ({
    self: "me",
    ownership: UNOWNED,
    owner: undefined,
    liveness: LIVENESS_UNKNOWN,
    forwarded: false,
    nowMs: 10_000,
    ttlMs: TTL,
    ...over,
  });
  it.each<[string, Partial<RouteFacts>, Route]>([
    [
      "an account we own and have fenced is decided here with our epoch",
      { ownership: ready(7) },
      { kind: "decide", epoch: 7 },
    ],
    [
      "a forwarded request for an account we own is decided here",
      { ownership: ready(7), forwarded: true },
      { kind: "decide", epoch: 7 },
    ],
    ["an account being acquired waits", { ownership: { phase: "acquiring" } }, { kind: "wait" }],
    ["an account being fenced waits", { ownership: fencing(7, [0]) }, { kind: "wait" }],
    ["a free account is acquired", {}, { kind: "acquire", previousRevision: undefined }],
    [
      "a free account is acquired for a forwarded request too",
      { forwarded: true },
      { kind: "acquire", previousRevision: undefined },
    ],
    [
      "an account owned by a live replica is forwarded to it",
      { owner: entry("b", 4, 0), liveness: seen(9_000) },
      { kind: "forward", holder: "b", address: "b:7000" },
    ],
    [
      "a forwarded request is never forwarded again",
      { owner: entry("b", 4, 0), liveness: seen(9_000), forwarded: true },
      { kind: "retry", why: "moved" },
    ],
    [
      "an account whose owner's liveness key is silent for the ttl is taken over",
      { owner: entry("b", 4, 0), liveness: seen(8_000) },
      { kind: "acquire", previousRevision: 4 },
    ],
    [
      "an account whose owner stopped (its liveness key deleted) is taken over at once",
      { owner: entry("b", 4, 9_999), liveness: DELETED },
      { kind: "acquire", previousRevision: 4 },
    ],
    [
      "an account whose owner stopped is taken over for a forwarded request too",
      { owner: entry("b", 4, 9_999), liveness: DELETED, forwarded: true },
      { kind: "acquire", previousRevision: 4 },
    ],
    [
      "an account we are losing is retried",
      { ownership: { phase: "lost", epoch: 7, why: "lease-lost" } },
      { kind: "retry", why: "losing" },
    ],
    [
      "a key that names us without our state (a forgotten lease) is taken again, fencing the old epoch",
      { owner: entry("me", 4, 9_999) },
      { kind: "acquire", previousRevision: 4 },
    ],
  ])("%s", (_name, over, expected) => {
    expect(routeRequest(facts(over))).toEqual(expected);
  });
});
