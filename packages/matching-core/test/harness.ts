/**
 * Shared test pieces: a small three-instrument venue, random command streams for fast-check,
 * and a runner that drives the engine and the reference model side by side.
 */
import fc from "fast-check";
import {
  InstrumentState,
  NSE_TICK_SLABS,
  applyCommand,
  readEvents,
  type EngineCommand,
  type EngineConfig,
  type EngineEvent,
  type MatchingEngine,
} from "../src/index.ts";
import type { ReferenceModel } from "./reference-model.ts";

/**
 * SLAB: NSE tick slabs across the 250 INR boundary (tick 1 below 25000 paise, 5 from there), 2% band.
 * LOT: tick 5, lot 10, min/max quantity, a max order value, 10% band, cancel on halt.
 * WIDE: no band (reference range of 3000 ticks, so the ladder must grow), starts in pre-open.
 */
export const TEST_CONFIG: EngineConfig = {
  instruments: [
    {
      symbol: "SLAB",
      tickSlabs: NSE_TICK_SLABS,
      lotSize: 1,
      minQty: 1,
      maxQty: 1000,
      maxOrderValue: 0,
      referencePrice: 25_000,
      bandPercent: 2,
    },
    {
      symbol: "LOT",
      tickSize: 5,
      lotSize: 10,
      minQty: 10,
      maxQty: 500,
      maxOrderValue: 300_000,
      referencePrice: 1000,
      bandPercent: 10,
      cancelOnHalt: true,
    },
    {
      symbol: "WIDE",
      tickSize: 1,
      lotSize: 1,
      minQty: 1,
      maxQty: 100,
      maxOrderValue: 0,
      referencePrice: 100,
      bandPercent: 0,
      maxTicksFromReference: 3000,
      initialState: InstrumentState.PRE_OPEN,
    },
  ],
  capacity: { maxOrders: 40, initialOrders: 4, initialEvents: 2 },
};

const BAD_NUMBERS = [0, -1, NaN, Infinity, -Infinity, 1.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2];
const PRICES: readonly (readonly number[])[] = [
  [24_995, 24_998, 24_999, 25_000, 25_000, 25_005, 25_010, 24_990, 25_015],
  [990, 995, 1000, 1000, 1005, 1010, 985, 1015],
  [97, 98, 99, 100, 100, 101, 102, 103],
];
const FAR_PRICES: readonly (readonly number[])[] = [
  [24_500, 25_500, 24_501, 25_495, 25_001, 24_499, 25_505, 30_000],
  [900, 1100, 1003, 895, 1105, 5],
  [1, 3100, 2000, 1500, 3101, 10, 2500],
];
const QTYS: readonly (readonly number[])[] = [
  [1, 2, 3, 5, 8, 10, 20, 40],
  [10, 20, 30, 50, 100, 15, 5, 600],
  [1, 2, 3, 5, 10, 20],
];

/**
 * A command before the runner fills in seq, time and (optionally) the owner of an order.
 * `epochDelta` (streams with fences): the command's owner epoch is its account's fence plus
 * this (at least 0), so -1 writes as a replica the account was fenced away from.
 */
export type GenCommand = (
  | {
      kind: "submit";
      inst: number;
      orderId: number;
      account: number;
      side: number;
      orderType: number;
      tif: number;
      price: number;
      qty: number;
      flags: number;
      stopPrice: number;
      displayQty: number;
      stpGroup: number;
      stpMode: number;
      expireIn: number;
      withExtras: boolean;
      staleSeq: boolean;
    }
  | { kind: "cancel"; orderId: number; target: number; account: number; owner: boolean; staleSeq: boolean }
  | {
      kind: "replace";
      orderId: number;
      target: number;
      account: number;
      owner: boolean;
      /** -1: keep the order's price */
      price: number;
      /** 997..1003: the order's quantity plus (value - 1000) lots */
      qty: number;
      staleSeq: boolean;
    }
  | { kind: "massCancel"; account: number; instrument: number; side: number; staleSeq: boolean }
  | { kind: "setState"; instrument: number; state: number; referencePrice: number; staleSeq: boolean }
  | { kind: "expire"; staleSeq: boolean }
  | { kind: "garbage"; staleSeq: boolean }
  /** The new fence is the account's fence plus `step`, or `bad` when set. */
  | { kind: "fence"; account: number; step: number; bad: number | undefined; staleSeq: boolean }
  | { kind: "block"; account: number; blocked: boolean; staleSeq: boolean }
) & { epochDelta?: number };

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const stale = fc.integer({ min: 0, max: 49 }).map((x) => x === 0);

const instArb = fc.integer({ min: 0, max: 99 }).map((r) => (r < 45 ? 0 : r < 75 ? 1 : 2));

/** Chaotic submits: every field from a pool that mixes valid and invalid values. */
const chaoticSubmitArb: fc.Arbitrary<GenCommand> = fc.integer({ min: 0, max: 40 }).chain((roll) => {
  const inst = roll < 18 ? 0 : roll < 30 ? 1 : roll < 39 ? 2 : roll === 39 ? 3 : -1;
  const i = inst >= 0 && inst < 3 ? inst : 0;
  const price = fc.oneof(
    { weight: 12, arbitrary: pick(PRICES[i]!) },
    { weight: 2, arbitrary: pick(FAR_PRICES[i]!) },
    { weight: 1, arbitrary: pick(BAD_NUMBERS) },
  );
  return fc.record({
    kind: fc.constant("submit" as const),
    inst: fc.constant(inst),
    orderId: fc.oneof(
      { weight: 20, arbitrary: fc.integer({ min: 1, max: 60 }) },
      { weight: 1, arbitrary: pick(BAD_NUMBERS) },
    ),
    account: fc.oneof(
      { weight: 20, arbitrary: fc.integer({ min: 1, max: 3 }) },
      { weight: 1, arbitrary: pick([-1, 1.5, NaN]) },
    ),
    side: fc.oneof({ weight: 20, arbitrary: pick([1, 2]) }, { weight: 1, arbitrary: pick([0, 3, NaN]) }),
    orderType: fc.oneof(
      { weight: 12, arbitrary: fc.constant(1) },
      { weight: 3, arbitrary: pick([2, 3, 4]) },
      { weight: 1, arbitrary: pick([0, 5, 1.5]) },
    ),
    tif: fc.oneof(
      { weight: 12, arbitrary: pick([1, 2, 2, 3]) },
      { weight: 4, arbitrary: pick([4, 5]) },
      { weight: 1, arbitrary: pick([0, 6]) },
    ),
    price: fc.oneof({ weight: 6, arbitrary: price }, { weight: 1, arbitrary: fc.constant(0) }),
    qty: fc.oneof({ weight: 15, arbitrary: pick(QTYS[i]!) }, { weight: 1, arbitrary: pick(BAD_NUMBERS) }),
    flags: fc.oneof(
      { weight: 10, arbitrary: fc.constant(0) },
      { weight: 2, arbitrary: fc.constant(1) },
      { weight: 1, arbitrary: pick([2, 1.5]) },
    ),
    stopPrice: fc.oneof({ weight: 8, arbitrary: pick(PRICES[i]!) }, { weight: 1, arbitrary: pick(BAD_NUMBERS) }),
    displayQty: fc.oneof(
      { weight: 10, arbitrary: fc.constant(0) },
      { weight: 3, arbitrary: pick(QTYS[i]!) },
      { weight: 1, arbitrary: pick(BAD_NUMBERS) },
    ),
    stpGroup: fc.oneof(
      { weight: 10, arbitrary: fc.constant(0) },
      { weight: 3, arbitrary: pick([1, 2]) },
      { weight: 1, arbitrary: pick([-1, 0.5]) },
    ),
    stpMode: fc.oneof({ weight: 12, arbitrary: pick([0, 1, 2, 3]) }, { weight: 1, arbitrary: pick([4, -1, 1.5]) }),
    expireIn: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 1, max: 60 }) },
      { weight: 1, arbitrary: pick([0, -5, NaN]) },
    ),
    withExtras: fc.boolean(),
    staleSeq: stale,
  });
});

/** Well-formed submits: consistent type, time in force and options, prices near the touch. */
const validSubmitArb = (icebergPct: number): fc.Arbitrary<GenCommand> =>
  fc
    .record({
      inst: instArb,
      typeRoll: fc.integer({ min: 0, max: 99 }),
      tifRoll: fc.integer({ min: 0, max: 99 }),
      option: fc.integer({ min: 0, max: 99 }),
      orderId: fc.integer({ min: 1, max: 60 }),
      account: fc.integer({ min: 1, max: 3 }),
      side: pick([1, 2]),
      priceIdx: fc.nat(),
      stopIdx: fc.nat(),
      qtyIdx: fc.nat(),
      displayIdx: fc.nat(),
      protect: fc.integer({ min: 0, max: 4 }),
      stpGroup: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: pick([1, 2]) }),
      stpMode: pick([0, 0, 1, 2, 3]),
      expireIn: fc.integer({ min: 1, max: 80 }),
    })
    .map((r): GenCommand => {
      const i = r.inst;
      const orderType = r.typeRoll < 70 ? 1 : r.typeRoll < 82 ? 2 : r.typeRoll < 91 ? 4 : 3;
      const tifs =
        orderType === 1
          ? [1, 1, 2, 2, 2, 2, 3, 4, 4, 5]
          : orderType === 2
            ? [4, 4, 4, 5]
            : orderType === 3
              ? [1, 2, 3]
              : [1, 2, 2, 3, 4];
      const tif = tifs[r.tifRoll % tifs.length]!;
      const resting = tif <= 3;
      const prices = PRICES[i]!;
      const qtys = QTYS[i]!.filter((q) => q !== 15 && q !== 5 && q !== 600);
      const qty = qtys[r.qtyIdx % qtys.length]!;
      const limitType = orderType === 1 || orderType === 4;
      const withExtras = r.option < 60 || orderType >= 3 || tif === 3;
      return {
        kind: "submit",
        inst: i,
        orderId: r.orderId,
        account: r.account,
        side: r.side,
        orderType,
        tif,
        price: limitType || r.protect === 0 ? prices[r.priceIdx % prices.length]! : 0,
        qty,
        flags: orderType === 1 && resting && r.option < 12 ? 1 : 0,
        stopPrice: prices[r.stopIdx % prices.length]!,
        displayQty:
          limitType && resting && r.option >= 40 && r.option < 40 + icebergPct ? qtys[r.displayIdx % qtys.length]! : 0,
        stpGroup: r.stpGroup,
        stpMode: r.stpMode,
        expireIn: r.expireIn,
        withExtras,
        staleSeq: false,
      };
    });

const idArb = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 1, max: 60 }) },
  { weight: 1, arbitrary: pick(BAD_NUMBERS) },
);
/** Which live order a cancel or replace aims at (an index into the live orders), or -1 for a raw id. */
const targetArb = fc.oneof({ weight: 5, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.constant(-1) });

/** Relative weights of the command kinds in a stream. */
export interface StreamMix {
  submit: number;
  chaotic: number;
  cancel: number;
  replace: number;
  massCancel: number;
  setState: number;
  expire: number;
  /** Percent of resting limit orders that are icebergs. */
  icebergPct: number;
  /** States setState picks from (repeat to weigh). */
  states: number[];
  /** Fences and kill-switch blocks (ADR 0003); with either, every command carries an owner epoch. */
  fence?: number;
  block?: number;
}

export const DEFAULT_MIX: StreamMix = {
  submit: 50,
  chaotic: 8,
  cancel: 12,
  replace: 12,
  massCancel: 2,
  setState: 5,
  expire: 3,
  icebergPct: 15,
  states: [1, 1, 1, 2, 2, 2, 2, 3, 3, 4],
};

/** Many call auctions: instruments keep going to pre-open and back, icebergs everywhere. */
export const AUCTION_MIX: StreamMix = {
  ...DEFAULT_MIX,
  submit: 60,
  chaotic: 2,
  setState: 10,
  icebergPct: 40,
  states: [1, 1, 2, 2],
};

/** Fences move now and then; blocks come and go (more releases than blocks, so books stay busy). */
export const FENCE_MIX: StreamMix = { ...DEFAULT_MIX, fence: 3, block: 3 };

export const commandArbWith = (mix: StreamMix): fc.Arbitrary<GenCommand> => {
  const base = baseCommandArb(mix);
  if ((mix.fence ?? 0) + (mix.block ?? 0) === 0) return base;
  const weight = mix.submit + mix.chaotic + mix.cancel + mix.replace + mix.massCancel + mix.setState + mix.expire + 1;
  return fc.oneof(
    {
      weight,
      arbitrary: fc
        .tuple(base, fc.integer({ min: 0, max: 5 }))
        .map(([c, d]): GenCommand => ({ ...c, epochDelta: d === 0 ? -1 : d === 1 ? 1 : 0 })),
    },
    {
      weight: mix.fence ?? 0,
      arbitrary: fc.record({
        kind: fc.constant("fence" as const),
        account: pick([1, 2, 3, 3, 1.5]),
        step: pick([-1, 0, 1, 1, 2, 3]),
        bad: pick([undefined, undefined, undefined, undefined, undefined, 0, -2, 1.5, NaN]),
        staleSeq: stale,
        epochDelta: pick([-1, 0, 0, 0, 1, 3]),
      }),
    },
    {
      weight: mix.block ?? 0,
      arbitrary: fc.record({
        kind: fc.constant("block" as const),
        account: pick([1, 2, 3, -1, 2.5]),
        blocked: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
        staleSeq: stale,
      }),
    },
  );
};

const baseCommandArb = (mix: StreamMix): fc.Arbitrary<GenCommand> =>
  fc.oneof(
    { weight: mix.submit, arbitrary: validSubmitArb(mix.icebergPct) },
    { weight: mix.chaotic, arbitrary: chaoticSubmitArb },
    {
      weight: mix.cancel,
      arbitrary: fc.record({
        kind: fc.constant("cancel" as const),
        orderId: idArb,
        target: targetArb,
        account: fc.integer({ min: 1, max: 3 }),
        owner: fc.integer({ min: 0, max: 6 }).map((x) => x > 0),
        staleSeq: stale,
      }),
    },
    {
      weight: mix.replace,
      arbitrary: fc.integer({ min: 0, max: 2 }).chain((i) =>
        fc.record({
          kind: fc.constant("replace" as const),
          orderId: idArb,
          target: targetArb,
          account: fc.integer({ min: 1, max: 3 }),
          owner: fc.integer({ min: 0, max: 6 }).map((x) => x > 0),
          price: fc.oneof(
            { weight: 4, arbitrary: fc.constant(-1) },
            { weight: 10, arbitrary: pick(PRICES[i]!) },
            { weight: 1, arbitrary: pick(FAR_PRICES[i]!) },
            { weight: 1, arbitrary: pick(BAD_NUMBERS) },
          ),
          qty: fc.oneof(
            { weight: 6, arbitrary: fc.integer({ min: -3, max: 3 }).map((d) => 1000 + d) },
            { weight: 6, arbitrary: pick(QTYS[i]!) },
            { weight: 1, arbitrary: pick(BAD_NUMBERS) },
          ),
          staleSeq: stale,
        }),
      ),
    },
    {
      weight: mix.massCancel,
      arbitrary: fc.record({
        kind: fc.constant("massCancel" as const),
        account: pick([-1, 1, 2, 3, 3, 1.5]),
        instrument: pick([-1, 0, 1, 2, 7]),
        side: pick([0, 1, 2, 5]),
        staleSeq: stale,
      }),
    },
    {
      weight: mix.setState,
      arbitrary: fc.record({
        kind: fc.constant("setState" as const),
        instrument: pick([-1, 0, 0, 1, 2, 2, 9]),
        state: fc.oneof({ weight: 12, arbitrary: pick(mix.states) }, { weight: 1, arbitrary: pick([0, 5, 1.5]) }),
        // Mostly none; now and then a new band reference (on tick, off tick, invalid).
        referencePrice: pick([0, 0, 0, 0, 0, 0, 0, 0, 100, 104, 96, 250, -2, 1.5]),
        staleSeq: stale,
      }),
    },
    { weight: mix.expire, arbitrary: fc.record({ kind: fc.constant("expire" as const), staleSeq: stale }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("garbage" as const), staleSeq: stale }) },
  );

export const commandArb = commandArbWith(DEFAULT_MIX);

/** Something that takes commands the way the engine does: the engine itself or the model. */
interface Target {
  admit: MatchingEngine["admit"];
  fence: MatchingEngine["fence"];
  block: MatchingEngine["block"];
  submit: MatchingEngine["submit"];
  cancel: MatchingEngine["cancel"];
  replace: MatchingEngine["replace"];
  massCancel: MatchingEngine["massCancel"];
  setState: MatchingEngine["setState"];
  expire: MatchingEngine["expire"];
  rejectCommand: MatchingEngine["rejectCommand"];
}

/** Turns generated commands into concrete ones: sequence numbers, times, order owners. */
export class StreamRunner {
  seq = 0;
  time = 1_000;
  private readonly model: ReferenceModel;
  constructor(model: ReferenceModel) {
    this.model = model;
  }

  concretize(c: GenCommand): EngineCommand {
    const cmd = this.concretizeBody(c);
    if (c.epochDelta === undefined || cmd.kind === "block" || !("account" in cmd)) return cmd;
    const ownerEpoch = Math.max(0, this.model.fenceOf(cmd.account) + c.epochDelta);
    return { ...cmd, ownerEpoch };
  }

  private concretizeBody(c: GenCommand): EngineCommand {
    const seq = c.staleSeq ? this.seq : ++this.seq;
    this.time += 7;
    const live = [0, 1, 2].flatMap((i) => this.model.liveOrders(i).map((o) => ({ ...o, inst: i })));
    const ownerOf = (id: number, fallback: number) => live.find((x) => x.orderId === id)?.account ?? fallback;
    const targetOf = (target: number, id: number) =>
      target >= 0 && live.length > 0 ? live[target % live.length]!.orderId : id;
    switch (c.kind) {
      case "submit": {
        const cmd = {
          kind: "submit" as const,
          seq,
          timeNs: this.time,
          orderId: c.orderId,
          instrument: c.inst,
          account: c.account,
          side: c.side,
          orderType: c.orderType,
          tif: c.tif,
          price: c.price,
          qty: c.qty,
        };
        if (!c.withExtras) return cmd;
        return {
          ...cmd,
          flags: c.flags,
          stopPrice: c.stopPrice,
          displayQty: c.displayQty,
          stpGroup: c.stpGroup,
          stpMode: c.stpMode,
          expireTimeNs: this.time + c.expireIn,
        };
      }
      case "cancel": {
        const id = targetOf(c.target, c.orderId);
        return { kind: "cancel", seq, orderId: id, account: c.owner ? ownerOf(id, c.account) : c.account };
      }
      case "replace": {
        const id = targetOf(c.target, c.orderId);
        const o = live.find((x) => x.orderId === id);
        const lot = o === undefined ? 1 : (TEST_CONFIG.instruments[o.inst]!.lotSize ?? 1);
        return {
          kind: "replace",
          seq,
          orderId: id,
          account: c.owner ? ownerOf(id, c.account) : c.account,
          price: c.price === -1 ? (o?.price ?? 100) : c.price,
          qty: c.qty >= 997 && c.qty <= 1003 ? (o?.qty ?? 10) + (c.qty - 1000) * lot : c.qty,
        };
      }
      case "massCancel":
        return { kind: "massCancel", seq, account: c.account, instrument: c.instrument, side: c.side };
      case "setState":
        return {
          kind: "setState",
          seq,
          timeNs: this.time,
          instrument: c.instrument,
          state: c.state,
          referencePrice: c.referencePrice,
        };
      case "expire":
        return { kind: "expire", seq, timeNs: this.time };
      case "fence":
        return { kind: "fence", seq, account: c.account, epoch: c.bad ?? this.model.fenceOf(c.account) + c.step };
      case "block":
        return { kind: "block", seq, account: c.account, blocked: c.blocked };
      default:
        return { kind: "bogus", seq } as unknown as EngineCommand;
    }
  }
}

/** Applies a command object to the model (the engine uses applyCommand). */
export function applyToModel(m: Target, c: EngineCommand): number {
  const epoch = "ownerEpoch" in c && c.ownerEpoch !== undefined ? c.ownerEpoch : 0;
  const refused = (account: number, entry: boolean, orderId: number, instrument: number): number =>
    m.admit(c.seq, account, epoch, entry, orderId, instrument);
  let r: number;
  switch (c.kind) {
    case "submit": {
      if ((r = refused(c.account, true, c.orderId, c.instrument)) !== 0) return r;
      const hasExtras = c.flags !== undefined;
      return m.submit(
        c.seq,
        c.timeNs,
        c.orderId,
        c.instrument,
        c.account,
        c.side,
        c.orderType,
        c.tif,
        c.price,
        c.qty,
        hasExtras
          ? {
              flags: c.flags,
              stopPrice: c.stopPrice,
              displayQty: c.displayQty,
              stpGroup: c.stpGroup,
              stpMode: c.stpMode,
              expireTimeNs: c.expireTimeNs,
            }
          : undefined,
      );
    }
    case "cancel":
      if ((r = refused(c.account, false, c.orderId, -1)) !== 0) return r;
      return m.cancel(c.seq, c.orderId, c.account);
    case "replace":
      if ((r = refused(c.account, true, c.orderId, -1)) !== 0) return r;
      return m.replace(c.seq, c.orderId, c.account, c.price, c.qty);
    case "massCancel":
      if ((r = refused(c.account, false, 0, c.instrument)) !== 0) return r;
      return m.massCancel(c.seq, c.account, c.instrument, c.side);
    case "fence":
      if ((r = refused(c.account, false, 0, -1)) !== 0) return r;
      return m.fence(c.seq, c.account, c.epoch);
    case "block":
      return m.block(c.seq, c.account, c.blocked);
    case "setState":
      return m.setState(c.seq, c.timeNs, c.instrument, c.state, c.referencePrice);
    case "expire":
      return m.expire(c.seq, c.timeNs);
    default:
      return m.rejectCommand((c as { seq: number }).seq);
  }
}

/** Applies a command to the engine: submits without extras go through the plain method. */
export function applyToEngine(e: MatchingEngine, c: EngineCommand): { result: number; events: EngineEvent[] } {
  const result =
    c.kind === "submit" && c.flags === undefined && c.ownerEpoch === undefined
      ? e.submit(c.seq, c.timeNs, c.orderId, c.instrument, c.account, c.side, c.orderType, c.tif, c.price, c.qty)
      : applyCommand(e, c);
  return { result, events: readEvents(e) };
}
