import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { readFileSync } from "node:fs";
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { parseManifests, venueFrom, type TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { ConfigError, lastStoredSeq, natsConnectionOptions } from "@tradeplane/platform";
import { SingleBar } from "cli-progress";
import { commandSeqOf, commandStreamName, entrySeqOf, positionOf } from "@tradeplane/contracts";
import { jetstreamManager } from "@nats-io/jetstream";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { Partition } from "@tradeplane/matching-core/partition";
import { decodeEntry } from "@tradeplane/matching-core/log-entry";
import { OrderProjection } from "@tradeplane/positions/order-projection";
import { unrealisedPnl } from "@tradeplane/positions/positions";
import { engineServiceConfig, localPorts, notionalPerTickLotOf, partitionsOf } from "../local/replay-config.ts";
import type { Target } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { formatMoney, formatPrice } from "../format.ts";
import { printResult } from "../output.ts";

/**
 * Rebuilds the engine's books and every account's positions as they stood right after
 * command `toSeq`, from the venue's command log alone, with the same pure code the engine
 * and the risk gateway run. Nothing running is touched.
 */
export interface ReplayFlags {
  readonly toSeq: string;
  readonly depth: string;
  /** Another venue's log: its manifest and NATS, with credentials and TLS from files. */
  readonly file?: string;
  readonly natsUrl?: string;
  readonly natsCreds?: string;
  readonly natsTokenFile?: string;
  readonly natsTlsCa?: string;
  readonly natsTlsCert?: string;
  readonly natsTlsKey?: string;
}

/** NATS connection options from the --nats-* credential and TLS flags (files, never secrets on the line). */
export function natsFlagOptions(
  flags: Pick<ReplayFlags, "natsCreds" | "natsTokenFile" | "natsTlsCa" | "natsTlsCert" | "natsTlsKey">,
): Partial<ConnectionOptions> {
  const tls = {
    ...(flags.natsTlsCa !== undefined ? { caFile: flags.natsTlsCa } : {}),
    ...(flags.natsTlsCert !== undefined ? { certFile: flags.natsTlsCert } : {}),
    ...(flags.natsTlsKey !== undefined ? { keyFile: flags.natsTlsKey } : {}),
  };
  try {
    return natsConnectionOptions({
      ...(flags.natsCreds !== undefined ? { natsCredsFile: flags.natsCreds } : {}),
      ...(flags.natsTokenFile !== undefined ? { natsToken: readFileSync(flags.natsTokenFile, "utf8").trimEnd() } : {}),
      ...(Object.keys(tls).length > 0 ? { natsTls: tls } : {}),
    });
  } catch (err) {
    // A file named by a flag that cannot be read (the message names the file).
    if (err instanceof ConfigError || (err as NodeJS.ErrnoException).code !== undefined)
      throw new CliError(EXIT.USAGE, (err as Error).message);
    throw err;
  }
}

/** Where the log is: the local venue's NATS, or one named by --nats-url with the venue's manifest (`command` reads it). */
export function logSource(
  target: Target,
  flags: Omit<ReplayFlags, "toSeq" | "depth">,
  command = "replay",
): { venue: TradingVenue; url: string; options: Partial<ConnectionOptions> } {
  if (flags.natsUrl !== undefined) {
    if (flags.file === undefined)
      throw new CliError(EXIT.USAGE, "--nats-url needs -f FILE, the venue's TradingVenue manifest");
    let venue: TradingVenue;
    try {
      venue = venueFrom(parseManifests(readFileSync(flags.file, "utf8"), flags.file), flags.file);
    } catch (err) {
      throw new CliError(EXIT.USAGE, `-f ${flags.file}: ${(err as Error).message}`);
    }
    return { venue, url: flags.natsUrl, options: natsFlagOptions(flags) };
  }
  const state = target.state;
  const venue = target.venue();
  if (state === undefined || venue === undefined)
    throw new CliError(
      EXIT.UNREACHABLE,
      `${command} reads a local venue's log: start it once with \`npm start\` (or pass --data-dir), or name another venue's with -f and --nats-url`,
    );
  return { venue, url: state.natsUrl, options: { token: state.natsToken } };
}

/** Connects to the NATS holding the log; unreachable is a CliError saying so. */
export async function connectToLog(
  url: string,
  options: Partial<ConnectionOptions>,
  local: boolean,
): Promise<NatsConnection> {
  try {
    return await connect({ servers: url, ...options, timeout: 3_000 });
  } catch (err) {
    throw new CliError(
      EXIT.UNREACHABLE,
      `cannot reach NATS at ${url} (${(err as Error).message}): is the venue running?` +
        (local ? " Start it with `npm start`" : ""),
    );
  }
}

export async function replay(target: Target, flags: ReplayFlags): Promise<void> {
  const toSeq = Number(flags.toSeq);
  if (!Number.isSafeInteger(toSeq) || toSeq < 0)
    throw new CliError(EXIT.USAGE, `--to-seq ${flags.toSeq}: give a command sequence >= 0`);
  const depth = Number(flags.depth);
  const { venue, url, options } = logSource(target, flags);

  // Only the engine's settings matter here; where it would listen does not.
  const placement = { natsUrl: [url], host: "127.0.0.1", ports: localPorts(0) };
  const partitions = new Map(
    partitionsOf(venue).map((p) => {
      return [p, Partition.create({ engine: engineConfigOf(engineServiceConfig(venue, p, placement)) })] as const;
    }),
  );
  const terms = new Map(
    venue.spec.instruments.map((i) => [i.symbol, { notionalPerTickLot: notionalPerTickLotOf(venue, i.symbol) }]),
  );
  const projection = new OrderProjection((symbol) => terms.get(symbol));
  const accounts = new Set<string>();

  const nc = await connectToLog(url, options, flags.natsUrl === undefined);
  try {
    const stream = commandStreamName(venue.metadata.name);
    // The last entry stored, not the last sequence assigned: a deleted last entry keeps that,
    // and the loop below would wait for it forever.
    const stored = await lastStoredSeq(await jetstreamManager(nc), stream);
    // The log's positions are entries; a command sequence names an entry and a position in it.
    const last = Math.min(entrySeqOf(toSeq), stored);
    if (entrySeqOf(toSeq) > stored && target.flags.json !== true)
      process.stderr.write(`the log ends at ${stored}; replaying all of it\n`);
    const bar =
      target.flags.json !== true && process.stderr.isTTY && last > 0
        ? new SingleBar({ format: "replay [{bar}] {value}/{total} log entries  {eta}s left", stream: process.stderr })
        : undefined;
    bar?.start(last, 0);
    let lastApplied = 0;
    if (last > 0) {
      const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume({ max_messages: 4_096 });
      for await (const m of messages) {
        const seq = m.seq;
        if (seq > last) break;
        const p = Number(m.subject.slice(m.subject.lastIndexOf(".") + 1));
        const partition = partitions.get(p);
        if (partition !== undefined) {
          const entry = decodeEntry(m.data);
          const upTo = seq === entrySeqOf(toSeq) ? positionOf(toSeq) : entry.commands.length - 1;
          for (let i = 0; i <= upTo && i < entry.commands.length; i++) {
            lastApplied = commandSeqOf(seq, i);
            partition.apply(lastApplied, entry.commands[i], entry.error);
            for (const event of partition.wireEvents()) {
              for (const report of projection.apply(event, p)) accounts.add(report.account);
            }
          }
        }
        if (seq % 1_000 === 0) bar?.update(seq);
        if (seq >= last) break;
      }
      await messages.close();
    }
    bar?.update(last);
    bar?.stop();
    print(target, venue, partitions, projection, [...accounts].sort(), lastApplied, depth);
  } finally {
    await nc.close();
  }
}

function print(
  target: Target,
  venue: NonNullable<ReturnType<Target["venue"]>>,
  partitions: ReadonlyMap<number, Partition>,
  projection: OrderProjection,
  accounts: readonly string[],
  seq: number,
  depth: number,
): void {
  const exp = venue.spec.market.notionalExponent;
  const books = venue.spec.instruments.map((i) => {
    const partition = partitions.get(i.partition)!;
    const view = partition.engine.book(partition.instrumentIndex(i.symbol), depth);
    return {
      symbol: i.symbol,
      lastPrice: view.lastPrice,
      bids: view.bids.map((l) => ({ price: l.price, qty: l.qty })),
      asks: view.asks.map((l) => ({ price: l.price, qty: l.qty })),
    };
  });
  const positions = accounts.flatMap((account) =>
    [...projection.positionsOf(account)].map(([instrument, p]) => {
      const mark = projection.lastPrice(instrument) || p.markPrice;
      return {
        account,
        instrument,
        netQty: p.netQty,
        realisedPnl: p.realisedPnl,
        unrealisedPnl: unrealisedPnl(p, notionalPerTickLotOf(venue, instrument), mark),
      };
    }),
  );
  // The engines' kill-switch blocks (ADR 0003), as their events announced them; "" is the venue's.
  const blocks = projection.controls.entries().blocks.map(([account, partition]) => ({ account, partition }));
  if (target.flags.json === true) {
    printResult(true, { toSeq: seq, books, positions, blocks }, "");
    return;
  }
  const unit = (symbol: string) => venue.spec.instruments.find((i) => i.symbol === symbol)!.priceUnit;
  const lines = [`state after command ${seq}`, "", "books (best bid / best ask, last trade):"];
  for (const b of books) {
    const bid = b.bids[0];
    const ask = b.asks[0];
    lines.push(
      `  ${b.symbol.padEnd(12)} ${bid ? `${bid.qty} @ ${formatPrice(bid.price, unit(b.symbol))}` : "-"}  /  ${ask ? `${formatPrice(ask.price, unit(b.symbol))} x ${ask.qty}` : "-"}   last ${b.lastPrice ? formatPrice(b.lastPrice, unit(b.symbol)) : "-"}   (${b.bids.length} bid, ${b.asks.length} ask levels)`,
    );
  }
  lines.push("", "positions (net lots, realised / unrealised P&L):");
  if (positions.length === 0) lines.push("  (none)");
  for (const p of positions)
    lines.push(
      `  ${p.account.padEnd(12)} ${p.instrument.padEnd(12)} ${String(p.netQty).padStart(8)}   ${formatMoney(p.realisedPnl, exp)} / ${formatMoney(p.unrealisedPnl, exp)}`,
    );
  if (blocks.length > 0)
    lines.push(
      "",
      `kill-switch blocks in the engine: ${blocks.map((b) => `${b.account === "" ? "the venue" : b.account} (partition ${b.partition})`).join(", ")}`,
    );
  process.stdout.write(lines.join("\n") + "\n");
}
