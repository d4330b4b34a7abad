export { SimulatedVenue, type EventListener, type SimInstrument } from "./simulated-venue.ts";
