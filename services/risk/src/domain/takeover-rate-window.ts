import type { Command } from "@tradeplane/contracts";

/**
 * The order rate across a takeover (ADR 0003): the new owner of an account starts its
 * order-rate window from the account's orders of the last second before its fences, read
 * from the command log, instead of waiting one window. Pure: the adapter
 * `takeover-rate-window.ts` reads the entries.
 *
 * The throttle admits new orders and replaces; every one an owner admitted and did not
 * refuse on a later check is in the log. Ages are measured on one clock, the stream's
 * (the time each entry was stored): an order admitted at A was stored at S >= A, and the
 * new owner decides nothing before it has seen the last fence, stored at F, so the order
 * leaves the window no later than the new owner's "now" minus (F - S) plus one second.
 * Seeding the window at now - (F - S) is therefore exact or conservative, whatever the
 * hosts' clocks say.
 */

/** One entry of the command log as the adapter read it. */
export interface LoggedEntry {
  readonly partition: number;
  /** Stream sequence of the entry. */
  readonly seq: number;
  /** When the stream stored it (ns, the stream's clock). */
  readonly storedNs: number;
  readonly commands: readonly Pick<Command, "account" | "body">[];
}

const WINDOW_NS = 1_000_000_000;

/**
 * The ages (ns before the last fence was stored) of the account's new orders and replaces
 * of the last second before the fences: on each partition, the commands before the
 * account's fence (entries before the fence's entry, and commands ahead of the fence in its
 * own entry, FenceAccountCommand{epoch}). `fenceEntries`: partition -> stream sequence of the entry holding our fence.
 * Entries of other partitions, other accounts and other kinds are ignored; undefined when
 * an entry holding a fence is missing from `entries` (the caller waits a window instead).
 */
export function ordersBeforeFences(
  entries: readonly LoggedEntry[],
  account: string,
  epoch: number,
  fenceEntries: ReadonlyMap<number, number>,
): number[] | undefined {
  let lastFenceNs: number | undefined;
  const stored: number[] = [];
  for (const entry of entries) {
    const fenceSeq = fenceEntries.get(entry.partition);
    if (fenceSeq === undefined || entry.seq > fenceSeq) continue;
    for (const command of entry.commands) {
      if (command.account !== account) continue;
      const kind = command.body?.$case;
      // What follows our fence in its entry was refused (or is ours: none yet).
      if (kind === "fenceAccount" && entry.seq === fenceSeq && command.body?.value.epoch === epoch) break;
      if (kind === "newOrder" || kind === "replaceOrder") stored.push(entry.storedNs);
    }
    if (entry.seq === fenceSeq) lastFenceNs = Math.max(lastFenceNs ?? 0, entry.storedNs);
  }
  const fencesSeen = new Set(entries.filter((e) => fenceEntries.get(e.partition) === e.seq).map((e) => e.partition));
  if (lastFenceNs === undefined || fencesSeen.size !== fenceEntries.size) return undefined;
  return stored.map((s) => lastFenceNs - s).filter((age) => age < WINDOW_NS);
}
