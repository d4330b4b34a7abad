export { marketMaker, marketMakerParams, makerQuotes, type MakerView, type MarketMakerParams } from "./market-maker.ts";
export { twap, twapParams, twapChildQty, twapDue, twapSlice, type TwapParams, type TwapProgress } from "./twap.ts";
export { momentumTaker, momentumTakerParams, momentumSignal, type MomentumTakerParams } from "./momentum-taker.ts";
export { noiseTaker, noiseTakerParams, noiseOrder, seededRandom, type NoiseTakerParams } from "./noise-taker.ts";
export { bestSingleVenue, routeParent, type ChildOrder, type Route, type VenueBook } from "./smart-order-router.ts";
export {
  AVERAGE_PRICE_PLACES,
  decimalRatio,
  summariseBestExecution,
  type BestExecutionSummary,
  type BestExecutionTotals,
  type SummarisedChild,
} from "./best-execution.ts";
export { othersBest } from "./own-book.ts";
export {
  orderRouter,
  orderRouterParams,
  type BestExecutionReport,
  type MultiVenueStrategy,
  type OrderRouterParams,
  type RouterChild,
  type RouterRound,
  type SingleVenueBenchmark,
} from "./order-router.ts";
export {
  BUILTIN_STRATEGIES,
  MULTI_VENUE_STRATEGIES,
  buildMultiVenueStrategy,
  buildStrategy,
  strategyProblemsOf,
  type MultiVenueBuildResult,
  type BuildResult,
  type BuiltInName,
  type ParameterProblem,
} from "./registry.ts";
