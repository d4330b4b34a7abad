export { BookMirror } from "./market-data/book-mirror.ts";
export {
  ResilientSubscription,
  type ResilientSubscriptionOptions,
  type UpdateStream,
} from "./market-data/resilient-subscription.ts";
export { SequenceTracker, type Gap, type Verdict } from "./market-data/sequence-tracker.ts";
