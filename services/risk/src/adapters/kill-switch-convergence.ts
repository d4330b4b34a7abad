import { Counter, type Registry } from "prom-client";
import type { Logger } from "@tradeplane/platform";
import {
  killSwitchRepairs,
  repairKey,
  type EngagedSwitch,
  type SwitchRepair,
} from "../domain/kill-switch-convergence.ts";

export interface KillSwitchConvergenceDeps {
  /** The switches engaged in the accounts bucket, as this replica's registry holds them. */
  readonly switches: () => readonly EngagedSwitch[];
  /** The engine's blocks as the projection shows them: [account or "" for the venue, partition]. */
  readonly blocks: () => readonly (readonly [string, number])[];
  readonly partitions: readonly number[];
  /** Writes one repair: the block (and the switch's mass cancel) or the unblock, to its partitions. */
  readonly write: (repair: SwitchRepair) => Promise<void>;
  /**
   * How long a difference must last before it is repaired: a replica engaging a switch writes
   * the block right after the record, and every replica sees the record before the block's
   * event. The command timeout covers the append; a difference older than that is a crash.
   */
  readonly graceMs: number;
  readonly logger: Logger;
  /** Counts the repairs written (`tp_risk_kill_switch_repairs_total{direction}`). */
  readonly registry?: Registry;
}

/**
 * Brings the engine's blocks in step with the kill switches of the accounts bucket (ADR 0003,
 * `domain/kill-switch-convergence.ts`), on start and at each change of a switch: a difference
 * seen twice, `graceMs` apart, is written. Every replica does it; the engine takes a block
 * twice as once, so two replicas repairing the same switch are harmless.
 */
export class KillSwitchConvergence {
  private readonly deps: KillSwitchConvergenceDeps;
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private readonly repaired: Counter<"direction"> | undefined;

  constructor(deps: KillSwitchConvergenceDeps) {
    this.deps = deps;
    this.repaired =
      deps.registry === undefined
        ? undefined
        : new Counter({
            name: "tp_risk_kill_switch_repairs_total",
            help: "Engine blocks written because a kill switch record and the engine disagreed (a gateway died between the two writes)",
            labelNames: ["direction"],
            registers: [deps.registry],
          });
  }

  /** A switch changed (or the replica started): compare again. */
  changed(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.changed();
      }
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wake?.();
  }

  private repairs(): SwitchRepair[] {
    return killSwitchRepairs(this.deps.switches(), this.deps.blocks(), this.deps.partitions);
  }

  private async run(): Promise<void> {
    const first = this.repairs();
    if (first.length === 0) return;
    await this.sleep(this.deps.graceMs);
    if (this.stopped) return;
    const seen = new Set(first.map(repairKey));
    const lasting = this.repairs().filter((r) => seen.has(repairKey(r)));
    for (const repair of lasting) {
      try {
        await this.deps.write(repair);
        this.deps.logger.warn(
          { ...repair, account: repair.account === "" ? "(venue)" : repair.account },
          repair.engaged
            ? "kill switch engaged in the accounts bucket but not blocked in the engine: block written"
            : "engine block without a kill switch in the accounts bucket: unblock written",
        );
        this.repaired?.inc({ direction: repair.engaged ? "block" : "unblock" });
      } catch (err) {
        this.deps.logger.error({ ...repair, err: (err as Error).message }, "kill switch repair not written: retrying");
        this.again = true;
        await this.sleep(this.deps.graceMs);
        return;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }
}
