export {
  CancelReason,
  EventKind,
  InstrumentState,
  NSE_TICK_SLABS,
  OrderFlags,
  OrderType,
  RejectReason,
  Side,
  StpMode,
  TimeInForce,
  codeName,
  type TickSlab,
} from "./constants.ts";
export {
  DEFAULT_INITIAL_EVENTS,
  DEFAULT_INITIAL_ORDERS,
  DEFAULT_MAX_ORDERS,
  DEFAULT_MAX_TICKS_FROM_REFERENCE,
  EngineConfigError,
  validateEngineConfig,
  type EngineCapacity,
  type EngineConfig,
  type InstrumentConfig,
  type NormalizedConfig,
  type NormalizedInstrument,
} from "./config.ts";
export { MatchingEngine, createEngine, restoreEngine } from "./engine.ts";
export { createOrderExtras, type OrderExtras } from "./order-extras.ts";
export { type BookLevel, type BookView, type EngineStats, type LiveOrder } from "./engine-views.ts";
export { SnapshotError } from "./codec.ts";
export { decodeEntry, type DecodedEntry } from "./log-entry.ts";
export {
  EventBuffer,
  eventAt,
  type AcceptedEvent,
  type BookDeltaEvent,
  type EngineEvent,
  type OrderEndEvent,
  type RejectedEvent,
  type ReplacedEvent,
  type StateChangedEvent,
  type TradeEvent,
  type TriggeredEvent,
} from "./events.ts";
export { applyCommand, readEvents, type EngineCommand } from "./commands.ts";
