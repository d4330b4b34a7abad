import type { CancelReason, LoggedCommand } from "@tradeplane/contracts";
import { timestampOfMs, type CommandLogWriter } from "@tradeplane/platform";

/**
 * Writes a mass cancel of every instrument to each partition that has instruments: the
 * account's orders, or every account's (`allAccounts`, the venue kill switch).
 */
export async function cancelEverywhere(
  log: CommandLogWriter,
  partitions: Iterable<number>,
  order: { account: string; allAccounts: boolean; reason: CancelReason; source: string },
): Promise<LoggedCommand[]> {
  const written: LoggedCommand[] = [];
  for (const partition of new Set(partitions)) {
    const ack = await log.append(partition, {
      timestamp: timestampOfMs(Date.now()),
      account: order.account,
      source: order.source,
      ownerEpoch: 0,
      body: {
        $case: "massCancel",
        value: { instrument: "", side: 0, allAccounts: order.allAccounts, reason: order.reason, clientOrderId: "" },
      },
    });
    written.push({ partition, commandSeq: ack.seq });
  }
  return written;
}
