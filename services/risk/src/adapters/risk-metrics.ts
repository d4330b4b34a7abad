import { Gauge, type Registry } from "prom-client";
import { isVenueHalted } from "@tradeplane/risk-checks/checks";
import type { AccountRiskSummary, OrderProjection } from "@tradeplane/positions/order-projection";
import type { AccountRegistry } from "./accounts.ts";
import type { EventFollower } from "./event-follower.ts";

export interface RiskGaugeDeps {
  readonly registry: Registry;
  readonly accounts: AccountRegistry;
  readonly projection: OrderProjection;
  readonly follower: EventFollower;
  /** Instruments the gateway lists (for the venue-halted gauge). */
  readonly listedInstruments: number;
}

/**
 * Gauges of the gateway's state, computed when /metrics is scraped (nothing on the order
 * path). Labels are bounded: per account at most (the accounts that ever traded here),
 * never per order or per instrument x account; kill switches by scope.
 */
export function registerRiskGauges(deps: RiskGaugeDeps): void {
  const { registry, accounts, projection } = deps;
  const perAccount = (name: string, help: string, value: (s: AccountRiskSummary) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ["account"],
      registers: [registry],
      collect() {
        // Reset first, so an account that left does not linger with its last value.
        this.reset();
        for (const [account, s] of projection.accountSummaries()) this.set({ account }, value(s));
      },
    });
  };
  perAccount("tp_risk_open_orders", "Open (working) orders per account", (s) => s.openOrders);
  perAccount(
    "tp_risk_position_lots",
    "Gross position per account: sum over instruments of |net position|, lots",
    (s) => s.grossPositionLots,
  );
  perAccount(
    "tp_risk_position_notional",
    "Gross position per account at mark price, minor units",
    (s) => s.grossPositionNotional,
  );
  perAccount("tp_risk_open_exposure", "Gross notional of open orders per account, minor units", (s) => s.openExposure);
  perAccount("tp_risk_realised_pnl", "Realised P&L per account, minor units", (s) => s.realisedPnl);
  perAccount("tp_risk_unrealised_pnl", "Unrealised P&L per account at mark price, minor units", (s) => s.unrealisedPnl);

  new Gauge({
    name: "tp_risk_kill_switches_engaged",
    help: "Engaged kill switches by scope (venue: 0 or 1)",
    labelNames: ["scope"],
    registers: [registry],
    collect() {
      const engaged = accounts.engagedKillSwitches();
      this.set({ scope: "venue" }, engaged.filter(([key]) => key === "venue").length);
      this.set({ scope: "account" }, engaged.filter(([key]) => key !== "venue").length);
    },
  });
  new Gauge({
    name: "tp_risk_accounts_loaded",
    help: "Accounts loaded from the accounts bucket",
    registers: [registry],
    collect() {
      this.set(accounts.accountCount);
    },
  });
  new Gauge({
    name: "tp_risk_instruments_halted",
    help: "Listed instruments the engine last announced HALTED",
    registers: [registry],
    collect() {
      this.set(projection.haltedInstruments);
    },
  });
  new Gauge({
    name: "tp_risk_events_waiting",
    help: "Event-stream messages held until their partition's previous message is applied (stored out of order)",
    registers: [registry],
    collect() {
      this.set(deps.follower.waiting);
    },
  });
  new Gauge({
    name: "tp_risk_event_gaps_skipped",
    help: "Partition messages given up on as lost: deleted or aged out of the event stream (should be 0)",
    registers: [registry],
    collect() {
      this.set(deps.follower.gapsSkipped);
    },
  });
  new Gauge({
    name: "tp_risk_event_stream_seq",
    help: "Event stream sequence of the last event in the projection",
    registers: [registry],
    collect() {
      this.set(deps.follower.streamSeq);
    },
  });
  new Gauge({
    name: "tp_risk_projection_started_from_seq",
    help: "Event stream sequence of the snapshot the projection was loaded from (0 = replayed from the start)",
    registers: [registry],
    collect() {
      this.set(deps.follower.startedFrom);
    },
  });
  new Gauge({
    name: "tp_risk_events_applied_since_start",
    help: "Event-stream messages (runs of one command's events about one instrument) applied to the projection since the process started; one held back for an earlier message counts once applied, an undecodable one never",
    registers: [registry],
    collect() {
      this.set(deps.follower.appliedSinceStart);
    },
  });
  new Gauge({
    name: "tp_risk_venue_halted",
    help: "1 while every listed instrument is HALTED (a venue-wide halt), else 0",
    registers: [registry],
    collect() {
      this.set(isVenueHalted(projection.haltedInstruments, deps.listedInstruments) ? 1 : 0);
    },
  });
}
