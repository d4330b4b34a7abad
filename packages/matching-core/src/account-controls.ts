import { EventKind, RejectReason } from "./constants.ts";
import type { EngineState } from "./engine-state.ts";

// The account fences and kill-switch blocks of ADR 0003: the commands that set them and the
// refusal of a command they stop. `MatchingEngine.admit` checks inline that none is set, the
// common case, and calls `admitChecked` otherwise.

/**
 * `MatchingEngine.admit` once some account is fenced or blocked: 0 when the command of
 * `account` written with `ownerEpoch` may go on, else its refusal (see `admit`).
 */
export function admitChecked(
  e: EngineState,
  seq: number,
  account: number,
  ownerEpoch: number,
  entry: boolean,
  orderId: number,
  instrument: number,
): number {
  const fence = e.fences.get(account);
  const fenced = fence !== undefined && !(ownerEpoch >= fence);
  if (!fenced && !(entry && (e.allBlocked || e.blocked.has(account)))) return 0;
  e.begin(seq);
  const inst = instrument >>> 0 === instrument && instrument < e.books.length ? instrument : -1;
  if (!(seq > e.lastSeq) || !Number.isSafeInteger(seq)) return e.reject(RejectReason.INVALID_SEQUENCE, orderId, inst);
  e.lastSeq = seq;
  return e.reject(fenced ? RejectReason.FENCED : RejectReason.KILL_SWITCH, orderId, inst);
}

/** The `fence` command (see `MatchingEngine.fence`). */
export function applyFence(e: EngineState, seq: number, account: number, epoch: number): number {
  e.begin(seq);
  if (!(seq > e.lastSeq) || !Number.isSafeInteger(seq)) return e.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
  e.lastSeq = seq;
  if ((account | 0) !== account || account < 0) return e.reject(RejectReason.INVALID_ACCOUNT, 0, -1);
  if (!(epoch > 0) || !Number.isSafeInteger(epoch)) return e.reject(RejectReason.INVALID_EPOCH, 0, -1);
  const now = Math.max(e.fences.get(account) ?? 0, epoch);
  e.fences.set(account, now);
  emitAccount(e, EventKind.ACCOUNT_FENCED, account, now, 0);
  return 0;
}

/** The `block` command (see `MatchingEngine.block`). */
export function applyBlock(e: EngineState, seq: number, account: number, blocked: boolean): number {
  e.begin(seq);
  if (!(seq > e.lastSeq) || !Number.isSafeInteger(seq)) return e.reject(RejectReason.INVALID_SEQUENCE, 0, -1);
  e.lastSeq = seq;
  if (account !== -1 && ((account | 0) !== account || account < 0))
    return e.reject(RejectReason.INVALID_ACCOUNT, 0, -1);
  if (typeof blocked !== "boolean") return e.reject(RejectReason.INVALID_COMMAND, 0, -1);
  if (account === -1) e.allBlocked = blocked;
  else if (blocked) e.blocked.add(account);
  else e.blocked.delete(account);
  emitAccount(e, EventKind.ACCOUNT_BLOCK_CHANGED, account, 0, blocked ? 1 : 0);
  return 0;
}

function emitAccount(e: EngineState, kind: number, account: number, epoch: number, state: number): void {
  const ev = e.events;
  const n = ev.count;
  if (n === ev.capacity) ev.grow();
  ev.kind[n] = kind;
  ev.orderId[n] = 0;
  ev.instrument[n] = -1;
  ev.account[n] = account;
  ev.price[n] = epoch;
  ev.state[n] = state;
  ev.count = n + 1;
}
