import { CancelReason, Side, type LoggedCommand } from "@tradeplane/contracts";
import { timestampOfMs, type CommandInput, type CommandLogWriter } from "@tradeplane/platform";

/**
 * Writes a mass cancel of every instrument to each partition that has instruments: the
 * account's orders, or every account's (`allAccounts`, the venue kill switch). Written with
 * owner epoch 0, so a partition that fenced the account (ADR 0003) refuses it with FENCED
 * unless its reason is KILL_SWITCH: a cancel on disconnect must come from the account's owner.
 */
export async function cancelEverywhere(
  log: CommandLogWriter,
  partitions: Iterable<number>,
  order: { account: string; allAccounts: boolean; reason: CancelReason; source: string },
): Promise<LoggedCommand[]> {
  const written: LoggedCommand[] = [];
  for (const partition of new Set(partitions)) {
    const ack = await log.append(partition, massCancelOf(order));
    written.push({ partition, commandSeq: ack.seq });
  }
  return written;
}

/** Longest BlockAccountCommand.reason the engine takes (engine.proto). */
const MAX_BLOCK_REASON = 256;

/**
 * The engine's side of a kill switch (ADR 0003): to each partition, a BlockAccountCommand
 * and, when engaging with `cancel`, the switch's mass cancel (reason KILL_SWITCH) right after
 * it, appended in the same turn so that they share the partition's log entry. From the block
 * on, the partition refuses the account's (or, with `allAccounts`, every account's) new
 * orders and replaces, whichever gateway replica wrote them, and the mass cancel after it
 * removes everything that came before: no order of the account can follow the cancel in any
 * partition's log. Neither is fenced: a kill switch binds whichever replica saw it first.
 * Returns the mass cancels written.
 */
export async function killSwitchEverywhere(
  log: CommandLogWriter,
  partitions: Iterable<number>,
  change: { account: string; allAccounts: boolean; engaged: boolean; cancel: boolean; reason: string; source: string },
): Promise<LoggedCommand[]> {
  const blocks: Promise<unknown>[] = [];
  const cancels: Promise<LoggedCommand>[] = [];
  // No await in this loop: every append of one turn goes out together, one entry per partition.
  for (const partition of new Set(partitions)) {
    blocks.push(
      log.append(partition, {
        timestamp: timestampOfMs(Date.now()),
        account: change.account,
        source: change.source,
        ownerEpoch: 0,
        body: {
          $case: "blockAccount",
          value: {
            blocked: change.engaged,
            allAccounts: change.allAccounts,
            reason: change.reason.slice(0, MAX_BLOCK_REASON),
          },
        },
      }),
    );
    if (change.engaged && change.cancel)
      cancels.push(
        log
          .append(partition, massCancelOf({ ...change, reason: CancelReason.KILL_SWITCH }))
          .then((ack) => ({ partition, commandSeq: ack.seq })),
      );
  }
  // Every append settled before any failure is reported: none is left unobserved.
  await Promise.all([...blocks, ...cancels]);
  return Promise.all(cancels);
}

function massCancelOf(order: {
  account: string;
  allAccounts: boolean;
  reason: CancelReason;
  source: string;
}): CommandInput {
  return {
    timestamp: timestampOfMs(Date.now()),
    account: order.account,
    source: order.source,
    ownerEpoch: 0,
    body: {
      $case: "massCancel",
      value: {
        instrument: "",
        side: Side.UNSPECIFIED,
        allAccounts: order.allAccounts,
        reason: order.reason,
        clientOrderId: "",
      },
    },
  };
}
