export {
  MAX_REQUESTS_PER_EVENT,
  RunawayStrategyError,
  SIM_REPORTS_KEPT,
  SimulatedVenue,
  type SimulatedVenueOptions,
  type EventListener,
  type SimInstrument,
} from "./simulated-venue.ts";
export { Backtest, feeOf, type BacktestOptions, type BacktestReport, type SeriesPoint } from "./backtest.ts";
export {
  WORKLOAD_ACCOUNTS,
  WORKLOAD_INSTRUMENT,
  WorkloadError,
  parseWorkload,
  replayWorkload,
  type ApplyCommand,
  type Workload,
} from "./workload.ts";
export { chartSvg } from "./chart.ts";
export {
  STRATEGY_CALLBACKS,
  StrategyModuleError,
  asStrategy,
  loadStrategyModule,
  type StrategyFactory,
} from "@tradeplane/sdk";
