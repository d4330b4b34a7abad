import { writeFileSync } from "node:fs";
import { SingleBar } from "cli-progress";
import {
  chartSvg,
  MultiVenueBacktest,
  WORKLOAD_INSTRUMENT,
  WorkloadFlow,
  type MultiVenueBacktestReport,
} from "@tradeplane/backtest";
import {
  buildMultiVenueStrategy,
  MULTI_VENUE_STRATEGIES,
  summariseBestExecution,
  type BestExecutionSummary,
} from "@tradeplane/strategies";
import { CliError, EXIT } from "../errors.ts";
import { printResult } from "../output.ts";
import { countWorkloadFile, workloadBatches } from "./workload-file.ts";

/** Progress bar above this many workload lines in all (on a terminal, never with --json). */
const PROGRESS_ABOVE_LINES = 100_000;

/** The flags of `tradeplane backtest` this module reads (the rest are `BacktestFlags`'). */
export interface VenueFlags {
  readonly strategy?: string;
  readonly strategyModule?: string;
  readonly module?: string;
  readonly workload?: string;
  /** `NAME=FILE`, one per venue, in the order that breaks ties between venues. */
  readonly venueWorkload?: readonly string[];
  readonly warmUpMs?: string;
  readonly chart?: string;
}

/** What `backtest` has parsed already: the same for one venue or several. */
export interface VenueRunInputs {
  readonly params: Readonly<Record<string, unknown>>;
  readonly feePerLot: number;
  readonly feeBps: number;
  readonly startMs: number;
}

/** A venue's name as a TradingVenue's: lower-case letters, digits and dashes. */
const VENUE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Whether the flags ask for a backtest over several venues (a venue's flow, or a strategy that needs several). */
export function wantsVenues(flags: VenueFlags): boolean {
  return (
    (flags.venueWorkload?.length ?? 0) > 0 || (flags.strategy !== undefined && flags.strategy in MULTI_VENUE_STRATEGIES)
  );
}

/** The one workload of a single-venue backtest, refusing what only a backtest over venues takes. */
export function singleWorkload(flags: VenueFlags): string {
  if (flags.warmUpMs !== undefined)
    throw new CliError(EXIT.USAGE, "--warm-up-ms is for a backtest over several venues (--venue-workload NAME=FILE)");
  if (flags.workload === undefined)
    throw new CliError(
      EXIT.USAGE,
      "give the flow: --workload FILE, --events FILE (a venue's recording), or --venue-workload NAME=FILE for each venue",
    );
  return flags.workload;
}

/** `NAME=FILE` pairs checked: two or more venues, each named once, with a TradingVenue's name. */
export function parseVenueWorkloads(pairs: readonly string[]): { venue: string; file: string }[] {
  const out: { venue: string; file: string }[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const venue = pair.slice(0, Math.max(eq, 0));
    if (eq <= 0 || eq === pair.length - 1)
      throw new CliError(EXIT.USAGE, `--venue-workload ${pair}: give NAME=FILE (a venue's name, its flow)`);
    if (!VENUE_NAME.test(venue))
      throw new CliError(
        EXIT.USAGE,
        `--venue-workload ${pair}: ${venue} is no venue name (lower-case letters, digits and dashes)`,
      );
    if (out.some((v) => v.venue === venue))
      throw new CliError(EXIT.USAGE, `--venue-workload ${pair}: venue ${venue} given twice`);
    out.push({ venue, file: pair.slice(eq + 1) });
  }
  if (out.length < 2)
    throw new CliError(EXIT.USAGE, "a backtest across venues needs two or more --venue-workload NAME=FILE");
  return out;
}

function parseWarmUp(text: string | undefined): number {
  if (text === undefined) return 0;
  const ms = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(ms))
    throw new CliError(EXIT.USAGE, `--warm-up-ms ${text}: give whole milliseconds >= 0`);
  return ms;
}

/** A venue's flow, read a chunk at a time as it plays, and its lines (read and checked first: nothing runs on a bad file). */
function flowOf(venue: string, file: string, startMs: number): { flow: WorkloadFlow; lines: number } {
  const names = {
    unreadable: (code: string) => `--venue-workload ${venue}=${file}: cannot read it: ${code}`,
    bad: (message: string) => `--venue-workload ${venue}=${file}: ${message}`,
  };
  const lines = countWorkloadFile(file, names);
  return { flow: new WorkloadFlow(workloadBatches(file, names), startMs), lines };
}

/**
 * A strategy across venues (the smart order router) over one flow per venue, as the live
 * runtime runs it: a leg per venue, every leg made before any starts. Prints the backtest's
 * report, each venue's, and the router's best-execution report with its totals.
 */
export function backtestVenues(flags: VenueFlags, json: boolean, inputs: VenueRunInputs): void {
  const acrossVenues = Object.keys(MULTI_VENUE_STRATEGIES).join(" | ");
  if (flags.strategy === undefined || (flags.strategyModule ?? flags.module) !== undefined)
    throw new CliError(
      EXIT.USAGE,
      `--strategy-module runs on one venue; across venues give --strategy ${acrossVenues}`,
    );
  if (!(flags.strategy in MULTI_VENUE_STRATEGIES))
    throw new CliError(
      EXIT.USAGE,
      `--strategy ${flags.strategy} trades on one venue: give --workload FILE; across venues give --strategy ${acrossVenues}`,
    );
  if ((flags.venueWorkload?.length ?? 0) === 0)
    throw new CliError(
      EXIT.USAGE,
      `${flags.strategy} trades on several venues: give each venue's flow with --venue-workload NAME=FILE (two or more)`,
    );
  if (flags.workload !== undefined)
    throw new CliError(
      EXIT.USAGE,
      "give --workload FILE (one venue) or --venue-workload NAME=FILE per venue, not both",
    );
  const venues = parseVenueWorkloads(flags.venueWorkload!);
  const warmUpMs = parseWarmUp(flags.warmUpMs);
  const built = buildMultiVenueStrategy(flags.strategy, inputs.params, [WORKLOAD_INSTRUMENT.symbol]);
  if (!built.ok)
    throw new CliError(
      EXIT.USAGE,
      built.problems
        .map((p) => (p.field === "builtin" ? `--strategy ${flags.strategy}: ` : `--param ${p.field}: `) + p.message)
        .join("; "),
    );
  const read = new Map(venues.map((v) => [v.venue, flowOf(v.venue, v.file, inputs.startMs)]));
  const flows = new Map([...read].map(([venue, r]) => [venue, r.flow]));
  const lines = [...read.values()].reduce((s, r) => s + r.lines, 0);
  const router = built.strategy;
  const bt = new MultiVenueBacktest({
    instruments: [WORKLOAD_INSTRUMENT],
    venues: venues.map((v) => ({ name: v.venue, strategy: router.leg(v.venue) })),
    startMs: inputs.startMs,
    startAtMs: inputs.startMs + warmUpMs,
    sampleEveryMs: Math.max(1, Math.floor(lines / 500)),
    feePerLot: inputs.feePerLot,
    feeBps: inputs.feeBps,
  });
  const bar =
    !json && process.stderr.isTTY && lines > PROGRESS_ABOVE_LINES
      ? new SingleBar({ format: "backtest [{bar}] {value}/{total} lines  {eta}s left", stream: process.stderr })
      : undefined;
  bar?.start(lines, 0);
  bt.run(flows, (n) => bar?.update(n));
  bar?.update(lines);
  bar?.stop();
  const report = bt.report();
  const best = summariseBestExecution(router.report(), WORKLOAD_INSTRUMENT.notionalPerTickLot);
  const names = venues.map((v) => `${v.venue}=${v.file}`).join(" ");
  if (flags.chart !== undefined) writeFileSync(flags.chart, chartSvg(bt.series, `${flags.strategy} on ${names}`));
  const perVenue = Object.fromEntries(
    venues.map((v) => [v.venue, { workload: v.file, lines: flows.get(v.venue)!.lines, ...report.venues[v.venue]! }]),
  );
  printResult(
    json,
    {
      strategy: flags.strategy,
      params: built.params,
      lines,
      warmUpMs,
      ...report,
      venues: perVenue,
      bestExecution: best,
    },
    [
      ...reportText(flags.strategy, report, venues, flows, warmUpMs),
      ...(flags.chart !== undefined ? [`  chart: ${flags.chart}`] : []),
      ...bestExecutionText(best, inputs.startMs),
    ].join("\n"),
  );
}

function reportText(
  strategy: string,
  r: MultiVenueBacktestReport,
  venues: readonly { venue: string }[],
  flows: ReadonlyMap<string, WorkloadFlow>,
  warmUpMs: number,
): string[] {
  const over = venues.map((v) => `${v.venue} (${flows.get(v.venue)!.lines} lines)`).join(", ");
  return [
    `${strategy} over ${over}: ${r.commands} commands, ${r.events} events${warmUpMs > 0 ? `; started after ${warmUpMs} ms` : ""}`,
    `  orders sent ${r.orders}, refused by its limits ${r.refusedLocally}, by the gateway ${r.gatewayRejects}`,
    `  fills ${r.fills} (${r.filledQty} lots), fees ${r.fees}`,
    `  P&L: realised ${r.realisedPnl}, unrealised ${r.unrealisedPnl}, net ${r.netPnl}; max drawdown ${r.maxDrawdown}`,
    `  inventory ${r.inventoryMin} .. ${r.inventoryMax}; positions ${JSON.stringify(r.positions)}`,
    ...venues.map(({ venue }) => {
      const v = r.venues[venue]!;
      return `  ${venue}: orders ${v.orders}, fills ${v.fills} (${v.filledQty} lots), fees ${v.fees}, net P&L ${v.netPnl}, positions ${JSON.stringify(v.positions)}`;
    }),
    `  fills digest ${r.fillsDigest}`,
  ];
}

/** The router's rounds, each with the best single venue it improved on and its children, then the totals. */
export function bestExecutionText(s: BestExecutionSummary, startMs: number): string[] {
  const t = s.totals;
  const out = [`best execution: ${s.side} ${s.totalQty} lots, limit ${s.limitPrice}`];
  for (const round of s.rounds) {
    const b = round.improvedOn;
    const single =
      b === undefined
        ? "no single venue could fill"
        : `best single venue ${b.venue}: ${b.filled} lots for ${b.notional}`;
    const skipped = round.skipped.length > 0 ? `; skipped ${round.skipped.join(", ")}` : "";
    out.push(
      `  round ${round.round} at +${round.atMs - startMs} ms: ${round.qty} lots left, routed ${round.routedQty}; ${single}${skipped}`,
    );
    for (const c of s.children.filter((c) => c.round === round.round))
      out.push(
        `    ${c.venue} ${c.clientOrderId}: ${c.qty} @ ${c.price} IOC, filled ${c.filledQty} for ${c.filledNotional}`,
      );
  }
  out.push(
    `  totals: ${t.children} children, filled ${t.filledQty} lots for ${t.filledNotional}, average ${t.averagePrice || "-"}`,
    `          best single venue: ${t.bestSingleVenue.filledQty} lots for ${t.bestSingleVenue.notional}, average ${t.bestSingleVenue.averagePrice || "-"}`,
    `          improvement ${t.improvement} minor units; ${t.extraQty} lots more than the best single venue could fill`,
  );
  return out;
}
