export { AccountState, type AccountBaseline, type PendingOrder, type ReportVerdict } from "./account/account-state.ts";
export { LimitGuard, type GuardVerdict, type GuardedOrder, type InstrumentRisk } from "./account/limit-guard.ts";
export type {
  Level,
  MarketView,
  OrderSpec,
  PositionView,
  SendResult,
  Strategy,
  StrategyContext,
  TradeView,
} from "./strategy/strategy.ts";
export {
  StrategyDriver,
  type DriverCounters,
  type OrderPort,
  type StrategyDriverOptions,
} from "./strategy/strategy-driver.ts";
export { quote, toTick, type Quote, type QuoteAction, type QuoteTargets } from "./strategy/quoting.ts";
export {
  STRATEGY_CALLBACKS,
  StrategyModuleError,
  asStrategy,
  loadStrategyModule,
  type StrategyFactory,
} from "./strategy/strategy-module.ts";
export { BookMirror } from "./market-data/book-mirror.ts";
export {
  ResilientSubscription,
  type ResilientSubscriptionOptions,
  type UpdateStream,
} from "./market-data/resilient-subscription.ts";
export { SequenceTracker, type Gap, type Verdict } from "./market-data/sequence-tracker.ts";
export { LiveMarket, type MarketChange } from "./live/live-market.ts";
export { HostErrorKind, LiveHost, type LiveHostOptions } from "./live/live-host.ts";
