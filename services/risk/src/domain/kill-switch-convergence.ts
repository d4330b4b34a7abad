/**
 * Kill switches and the engine's blocks in step (ADR 0003). A switch is written twice: its
 * record in the accounts bucket (the gateways' pre-check), then BlockAccountCommand (with the
 * switch's mass cancel) to every partition; a release deletes the record, then unblocks. A
 * gateway that dies between the two leaves them apart: a switch engaged in KV that the
 * engine does not enforce, or an engine block nobody can see or release. Pure: given the
 * engaged switches and the blocks as the projection shows them (AccountBlockChanged), what
 * to write so that they agree. Blocks are idempotent in the engine, so writing one twice
 * (two replicas repairing at once) changes nothing.
 */

/** An engaged switch of the accounts bucket: the venue's ("") or an account's. */
export interface EngagedSwitch {
  /** "" for the venue's switch, else the account. */
  readonly account: string;
  readonly reason: string;
  /** Engaged without its mass cancel. */
  readonly keepOpenOrders: boolean;
}

/** What to write to make the engine agree with the bucket for one switch. */
export interface SwitchRepair {
  /** "" for the venue's block, else the account. */
  readonly account: string;
  /** true: block (the switch is engaged in KV); false: unblock (it is not). */
  readonly engaged: boolean;
  /** The partitions that disagree; the others already agree. */
  readonly partitions: readonly number[];
  /** Write the switch's mass cancel after the block (an engaged switch that cancels). */
  readonly cancel: boolean;
  readonly reason: string;
}

/**
 * The repairs, in a stable order (venue first, then accounts by name; blocks before
 * unblocks). `blocks`: [account, partition] of every block the projection holds, "" as the
 * account for the venue's (`AccountControls.entries().blocks`). Partitions not in
 * `partitions` (no instrument of this venue's config) are left alone.
 */
export function killSwitchRepairs(
  engaged: readonly EngagedSwitch[],
  blocks: readonly (readonly [string, number])[],
  partitions: readonly number[],
): SwitchRepair[] {
  const ours = new Set(partitions);
  const blocked = new Map<string, Set<number>>();
  for (const [account, partition] of blocks) {
    if (!ours.has(partition)) continue;
    let set = blocked.get(account);
    if (set === undefined) blocked.set(account, (set = new Set()));
    set.add(partition);
  }
  const repairs: SwitchRepair[] = [];
  const inKv = new Set<string>();
  for (const s of engaged) {
    inKv.add(s.account);
    const missing = [...ours].filter((p) => !(blocked.get(s.account)?.has(p) ?? false)).sort((a, b) => a - b);
    if (missing.length > 0)
      repairs.push({
        account: s.account,
        engaged: true,
        partitions: missing,
        cancel: !s.keepOpenOrders,
        reason: s.reason,
      });
  }
  for (const [account, set] of blocked)
    if (!inKv.has(account))
      repairs.push({
        account,
        engaged: false,
        partitions: [...set].sort((a, b) => a - b),
        cancel: false,
        reason: "kill switch not engaged in the accounts bucket",
      });
  return repairs.sort(
    (a, b) =>
      Number(a.account !== "") - Number(b.account !== "") ||
      a.account.localeCompare(b.account) ||
      Number(b.engaged) - Number(a.engaged),
  );
}

/** A repair's identity: the same switch, the same direction. */
export function repairKey(r: Pick<SwitchRepair, "account" | "engaged">): string {
  return `${r.engaged ? "block" : "unblock"}:${r.account}`;
}
