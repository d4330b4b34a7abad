import type { AccountBlockChanged, AccountFenced } from "@tradeplane/contracts";

/**
 * What the engine partitions announced about account ownership and kill switches (ADR 0003):
 * each account's fence per partition (AccountFenced) and the blocks each partition holds
 * (AccountBlockChanged), rebuilt from events alone like the rest of the projection.
 *
 * A gateway replica that takes an account over at epoch E writes FenceAccountCommand{E} to
 * every partition and decides nothing for the account until `fencedEverywhere(account, E, ...)`:
 * then every command an earlier owner wrote is resolved on every partition (each partition
 * applies its log in order, and the fence came after them), so the account's in-flight
 * holds start empty and exact.
 */
export class AccountControls {
  /** account -> partition -> fence. */
  private readonly fences = new Map<string, Map<number, number>>();
  /** partition -> accounts its engine blocks. */
  private readonly blocked = new Map<number, Set<string>>();
  /** Partitions whose engine holds the venue's block (every account). */
  private readonly venueBlocked = new Set<number>();

  /** Applies one partition's AccountFenced or AccountBlockChanged. */
  apply(
    body:
      { $case: "accountFenced"; value: AccountFenced } | { $case: "accountBlockChanged"; value: AccountBlockChanged },
    partition: number,
  ): void {
    if (body.$case === "accountFenced") {
      const { account, epoch } = body.value;
      let byPartition = this.fences.get(account);
      if (byPartition === undefined) {
        byPartition = new Map();
        this.fences.set(account, byPartition);
      }
      // The engine announces its fence after the command, never lower than before.
      byPartition.set(partition, Math.max(byPartition.get(partition) ?? 0, epoch));
      return;
    }
    const { account, allAccounts, blocked } = body.value;
    if (allAccounts) {
      if (blocked) this.venueBlocked.add(partition);
      else this.venueBlocked.delete(partition);
      return;
    }
    let accounts = this.blocked.get(partition);
    if (accounts === undefined) {
      accounts = new Set();
      this.blocked.set(partition, accounts);
    }
    if (blocked) accounts.add(account);
    else accounts.delete(account);
  }

  /** The account's fence on `partition` as its events announced it (0: never fenced there). */
  fenceOf(account: string, partition: number): number {
    return this.fences.get(account)?.get(partition) ?? 0;
  }

  /** The account's fence per partition (only partitions that fenced it). */
  fencesOf(account: string): ReadonlyMap<number, number> {
    return this.fences.get(account) ?? new Map();
  }

  /**
   * The partitions among `partitions` whose fence for `account` is still below `epoch`: a new
   * owner at `epoch` waits until this is empty.
   */
  partitionsNotFenced(account: string, epoch: number, partitions: Iterable<number>): number[] {
    const byPartition = this.fences.get(account);
    const out: number[] = [];
    for (const p of partitions) if ((byPartition?.get(p) ?? 0) < epoch) out.push(p);
    return out;
  }

  /** Whether every partition of `partitions` has fenced `account` at `epoch` or higher. */
  fencedEverywhere(account: string, epoch: number, partitions: Iterable<number>): boolean {
    return this.partitionsNotFenced(account, epoch, partitions).length === 0;
  }

  /** Whether `partition`'s engine refuses the account's new orders: its own block or the venue's. */
  isBlocked(account: string, partition: number): boolean {
    return this.venueBlocked.has(partition) || (this.blocked.get(partition)?.has(account) ?? false);
  }

  /** Whether `partition`'s engine holds the venue's block. */
  isVenueBlocked(partition: number): boolean {
    return this.venueBlocked.has(partition);
  }

  /** As plain data for the projection's snapshot; "" as the account is the venue's block. */
  entries(): { fences: [string, number, number][]; blocks: [string, number][] } {
    const fences: [string, number, number][] = [];
    for (const [account, byPartition] of this.fences)
      for (const [partition, epoch] of byPartition) fences.push([account, partition, epoch]);
    const blocks: [string, number][] = [];
    for (const partition of this.venueBlocked) blocks.push(["", partition]);
    for (const [partition, accounts] of this.blocked) for (const a of accounts) blocks.push([a, partition]);
    return { fences, blocks };
  }

  /** Loads what `entries` gave (the caller has checked the types). */
  load(fences: readonly [string, number, number][], blocks: readonly [string, number][]): void {
    for (const [account, partition, epoch] of fences)
      this.apply({ $case: "accountFenced", value: { account, epoch } }, partition);
    for (const [account, partition] of blocks)
      this.apply(
        { $case: "accountBlockChanged", value: { account, allAccounts: account === "", blocked: true, reason: "" } },
        partition,
      );
  }
}
