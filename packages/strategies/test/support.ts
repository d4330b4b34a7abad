import type { Command } from "@tradeplane/contracts";
import { SimulatedVenue } from "@tradeplane/backtest";
import { StrategyDriver, type Strategy } from "@tradeplane/sdk";
import { commandStream, testInstrumentSettings } from "@tradeplane/testkit";
import type { RiskLimits } from "@tradeplane/contracts";

export const INSTRUMENTS = testInstrumentSettings.map((i) => ({ ...i, notionalPerTickLot: 1 }));

export function msOf(c: Command): number {
  return c.timestamp!.seconds * 1000 + Math.floor(c.timestamp!.nanos / 1e6);
}

/** A strategy on the simulated venue (the real core) with the testkit's flow around it. */
export function simulate(
  strategy: Strategy,
  options: {
    commands?: number;
    seed?: number;
    limits?: RiskLimits;
    each?: (venue: SimulatedVenue, i: number) => void;
  } = {},
) {
  const flow = commandStream(options.commands ?? 2_000, options.seed ?? 1);
  const venue = new SimulatedVenue(INSTRUMENTS, msOf(flow[0]!));
  const driver = new StrategyDriver({
    account: "strat",
    strategy,
    orders: venue.portFor("strat"),
    market: venue,
    limits: options.limits,
    clock: () => venue.nowMs,
    clientOrderIdPrefix: "s",
  });
  venue.attach("strat", driver, options.limits);
  driver.start();
  flow.forEach((c, i) => {
    venue.apply(c.account, c.body, msOf(c));
    options.each?.(venue, i);
  });
  return { venue, driver, endMs: msOf(flow[flow.length - 1]!) };
}
