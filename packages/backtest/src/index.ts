export {
  MAX_REQUESTS_PER_EVENT,
  RunawayStrategyError,
  SIM_REPORTS_KEPT,
  SimulatedVenue,
  type SimulatedVenueOptions,
  type EventListener,
  type SimInstrument,
} from "./simulated-venue.ts";
export { Backtest, feeOf, type BacktestOptions, type BacktestReport, type Fill, type SeriesPoint } from "./backtest.ts";
export {
  CommandLogFlow,
  commandTimeMs,
  firstStrategyCommand,
  isStrategyCommand,
  type CommandLogFlowOptions,
  type LogEntry,
} from "./command-log-flow.ts";
export {
  MultiVenueBacktest,
  type BacktestVenue,
  type MultiVenueBacktestOptions,
  type MultiVenueBacktestReport,
  type VenueFill,
} from "./multi-venue-backtest.ts";
export { mergeFlows, type FlowSource, type RoutedFlow } from "./flow-source.ts";
export {
  MAX_WORKLOAD_LINE,
  WORKLOAD_ACCOUNTS,
  WorkloadFlow,
  WORKLOAD_INSTRUMENT,
  WorkloadError,
  WorkloadParser,
  parseWorkload,
  replayWorkload,
  type ApplyCommand,
  type Workload,
  type WorkloadInput,
} from "./workload.ts";
export {
  DEFAULT_WORKLOAD_DEPTH,
  MAX_WORKLOAD_DEPTH,
  MAX_WORKLOAD_ORDERS,
  WORKLOAD_START_PRICE,
  WorkloadGenerator,
  WorkloadOptionsError,
  checkWorkloadOptions,
  workloadLine,
  type WorkloadEvent,
  type WorkloadOptions,
  type WorkloadOptionsReason,
  type WorkloadStats,
} from "./workload-generator.ts";
export type { WorkloadSide } from "./workload-book.ts";
export { chartSvg } from "./chart.ts";
export {
  STRATEGY_CALLBACKS,
  StrategyModuleError,
  asStrategy,
  loadStrategyModule,
  type StrategyFactory,
} from "@tradeplane/sdk";
export {
  EventFlow,
  RECORDING_PRINCIPAL,
  recordedCommands,
  replayRecorded,
  type EventFlowStats,
  type RecordedCommand,
} from "./event-flow.ts";
export {
  RECORDING_FORMAT,
  RECORDING_VERSION,
  RecordingError,
  RecordingReader,
  anonymised,
  isRecorded,
  parseRecording,
  recordingHeader,
  recordingLine,
  type RecordedEvent,
  type Recording,
  type RecordingErrorReason,
  type RecordingHeader,
} from "./recording.ts";
