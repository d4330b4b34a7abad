export {
  MAX_REQUESTS_PER_EVENT,
  RunawayStrategyError,
  SimulatedVenue,
  type EventListener,
  type SimInstrument,
} from "./simulated-venue.ts";
