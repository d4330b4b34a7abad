import { RejectReason } from "./constants.ts";
import type { MatchingEngine } from "./engine.ts";
import { type EngineEvent, readEventBuffer } from "./events.ts";

/**
 * Plain-object commands for tests and the service; the numeric methods are the fast path. A
 * command of an account (submit, cancel, replace, mass cancel, fence) first goes through
 * `MatchingEngine.admit` with its `ownerEpoch` (absent: 0); a mass cancel of every account
 * (-1) is checked as the venue's, which no fence binds.
 */
export type EngineCommand =
  | {
      readonly kind: "submit";
      readonly seq: number;
      readonly timeNs: number;
      readonly orderId: number;
      readonly instrument: number;
      readonly account: number;
      readonly side: number;
      readonly orderType: number;
      readonly tif: number;
      readonly price: number;
      readonly qty: number;
      readonly flags?: number;
      readonly stopPrice?: number;
      readonly displayQty?: number;
      readonly stpGroup?: number;
      readonly stpMode?: number;
      readonly expireTimeNs?: number;
      readonly ownerEpoch?: number;
    }
  | {
      readonly kind: "cancel";
      readonly seq: number;
      readonly orderId: number;
      readonly account: number;
      readonly ownerEpoch?: number;
    }
  | {
      readonly kind: "replace";
      readonly seq: number;
      readonly orderId: number;
      readonly account: number;
      readonly price: number;
      readonly qty: number;
      readonly ownerEpoch?: number;
    }
  | {
      readonly kind: "massCancel";
      readonly seq: number;
      readonly account: number;
      readonly instrument: number;
      readonly side: number;
      readonly ownerEpoch?: number;
    }
  | {
      readonly kind: "fence";
      readonly seq: number;
      readonly account: number;
      readonly epoch: number;
      readonly ownerEpoch?: number;
    }
  | { readonly kind: "block"; readonly seq: number; readonly account: number; readonly blocked: boolean }
  | {
      readonly kind: "setState";
      readonly seq: number;
      readonly timeNs: number;
      readonly instrument: number;
      readonly state: number;
      /** A new price-band reference in ticks; 0 or absent = unchanged. */
      readonly referencePrice?: number;
    }
  | { readonly kind: "expire"; readonly seq: number; readonly timeNs: number };

/**
 * Applies one command object; returns 0 or the reject reason, like the methods. An object that is
 * not a command gives a REJECTED event with INVALID_COMMAND; nothing throws.
 */
export function applyCommand(engine: MatchingEngine, cmd: EngineCommand): number {
  const c = (cmd ?? {}) as Partial<Record<string, unknown>> & { kind?: unknown };
  const n = (v: unknown): number => (typeof v === "number" ? v : NaN);
  const epoch = c.ownerEpoch === undefined ? 0 : n(c.ownerEpoch);
  const refused = (entry: boolean, orderId: number, instrument: number): number =>
    engine.admit(n(c.seq), n(c.account), epoch, entry, orderId, instrument);
  let r: number;
  switch (c.kind) {
    case "submit":
      if ((r = refused(true, n(c.orderId), n(c.instrument))) !== 0) return r;
      return engine.submit(
        n(c.seq),
        n(c.timeNs),
        n(c.orderId),
        n(c.instrument),
        n(c.account),
        n(c.side),
        n(c.orderType),
        n(c.tif),
        n(c.price),
        n(c.qty),
        {
          flags: c.flags === undefined ? 0 : n(c.flags),
          stopPrice: c.stopPrice === undefined ? 0 : n(c.stopPrice),
          displayQty: c.displayQty === undefined ? 0 : n(c.displayQty),
          stpGroup: c.stpGroup === undefined ? 0 : n(c.stpGroup),
          stpMode: c.stpMode === undefined ? 0 : n(c.stpMode),
          expireTimeNs: c.expireTimeNs === undefined ? 0 : n(c.expireTimeNs),
        },
      );
    case "cancel":
      if ((r = refused(false, n(c.orderId), -1)) !== 0) return r;
      return engine.cancel(n(c.seq), n(c.orderId), n(c.account));
    case "replace":
      if ((r = refused(true, n(c.orderId), -1)) !== 0) return r;
      return engine.replace(n(c.seq), n(c.orderId), n(c.account), n(c.price), n(c.qty));
    case "massCancel":
      if ((r = refused(false, 0, n(c.instrument))) !== 0) return r;
      return engine.massCancel(n(c.seq), n(c.account), n(c.instrument), n(c.side));
    case "fence":
      if ((r = refused(false, 0, -1)) !== 0) return r;
      return engine.fence(n(c.seq), n(c.account), n(c.epoch));
    case "block":
      return engine.block(n(c.seq), n(c.account), c.blocked as boolean);
    case "setState":
      return engine.setState(n(c.seq), n(c.timeNs), n(c.instrument), n(c.state), n(c.referencePrice ?? 0));
    case "expire":
      return engine.expire(n(c.seq), n(c.timeNs));
    default: {
      const r = engine.rejectCommand(n(c.seq));
      return r === 0 ? RejectReason.INVALID_COMMAND : r;
    }
  }
}

/** The last command's events as plain objects (allocates; not for the hot path). */
export function readEvents(engine: MatchingEngine): EngineEvent[] {
  return readEventBuffer(engine.events);
}
