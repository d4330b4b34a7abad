import { writeFileSync } from "node:fs";
import { SingleBar } from "cli-progress";
import {
  Backtest,
  chartSvg,
  loadStrategyModule,
  replayWorkload,
  StrategyModuleError,
  WORKLOAD_INSTRUMENT,
  type BacktestOptions,
  type BacktestReport,
  type Fill,
  type SimInstrument,
} from "@tradeplane/backtest";
import { Side } from "@tradeplane/contracts";
import type { Strategy } from "@tradeplane/sdk";
import { buildStrategy } from "@tradeplane/strategies";
import { CliError, EXIT } from "../errors.ts";
import { backtestVenues, singleWorkload, wantsVenues, type VenueFlags } from "./backtest-venues.ts";
import { printResult } from "../output.ts";
import { countWorkloadFile, workloadBatches } from "./workload-file.ts";
import type { TargetFlags } from "../client/target.ts";
import type { CommandLogFlags } from "./backtest-command-log-options.ts";

export interface BacktestFlags extends VenueFlags, Partial<CommandLogFlags> {
  /** A built-in strategy's name, or absent with `module`. */
  readonly strategy?: string;
  /** A user's strategy module: exports `strategy(params, instruments)` (or a Strategy as default). */
  readonly strategyModule?: string;
  /** The same as `strategyModule` (the flag's first name). */
  readonly module?: string;
  readonly param: readonly string[];
  /** A recording of a venue's events (`tradeplane events export`): the flow instead of a workload. */
  readonly events?: string;
  readonly chart?: string;
  /** Writes every fill of the strategy as CSV. */
  readonly fills?: string;
  readonly feePerLot: string;
  readonly feeBps: string;
}

/** Where a backtest's flow comes from (a workload, a venue's command log), and how it runs. */
export interface BacktestSource {
  readonly instruments: readonly SimInstrument[];
  /** The strategy's account, and whether it starts only when the flow says (`Backtest.start`). */
  readonly account?: string;
  readonly deferStart?: boolean;
  readonly startMs: number;
  readonly sampleEveryMs: number;
  /** Progress: the flow's size and unit ("lines", "log entries"). */
  readonly total: number;
  readonly unit: string;
  run(bt: Backtest, progress: (done: number) => void): Promise<void> | void;
  /** What ran, for the report: fields of the JSON, and the text after "over". */
  summary(): { readonly json: Readonly<Record<string, unknown>>; readonly text: string; readonly title: string };
  close?(): Promise<void>;
}

/** Workload time starts here (2026-01-01T00:00:00Z), one millisecond per line. */
const START_MS = 1_767_225_600_000;

/** `k=v` pairs: numbers and booleans as such, anything else as text. */
export function parseParams(pairs: readonly string[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(EXIT.USAGE, `--param ${pair}: give name=value`);
    const raw = pair.slice(eq + 1);
    out[pair.slice(0, eq)] =
      raw === "true" ? true : raw === "false" ? false : raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

/**
 * Runs a strategy, built in or a user's module, over a flow on the real matching core, the
 * gateway's projection and checks, at full speed: a workload of the shared format, a
 * venue's command log (`--command-log`, backtest-command-log.ts), a venue's recorded events
 * (`--events`, backtest-events.ts) or several venues' workloads (backtest-venues.ts). Same
 * input, same output.
 */
export async function backtest(flags: BacktestFlags, json: boolean, global: TargetFlags = {}): Promise<void> {
  const moduleFile = flags.strategyModule ?? flags.module;
  const { feePerLot, feeBps } = feesOf(flags);
  if (flags.events !== undefined) {
    if (flags.workload !== undefined || wantsVenues(flags) || flags.warmUpMs !== undefined || flags.commandLog === true)
      throw new CliError(
        EXIT.USAGE,
        "--events FILE is one venue's recording: give it alone, without --workload, --command-log, --venue-workload, --warm-up-ms or a strategy across venues",
      );
    refuseLogFlags(flags);
    const { backtestEvents } = await import("./backtest-events.ts");
    return backtestEvents(flags, flags.events, json);
  }
  if (wantsVenues(flags)) {
    if (flags.commandLog === true)
      throw new CliError(
        EXIT.USAGE,
        "--command-log reads one venue's log: not with --venue-workload or a strategy across venues",
      );
    refuseLogFlags(flags);
    return backtestVenues(flags, json, { params: parseParams(flags.param), feePerLot, feeBps, startMs: START_MS });
  }
  if ((flags.workload === undefined) === (flags.commandLog !== true))
    throw new CliError(
      EXIT.USAGE,
      flags.workload === undefined
        ? "give the flow: --workload FILE, --events FILE, --command-log (a venue's command log), or --venue-workload NAME=FILE for each venue"
        : "give --workload FILE or --command-log (a venue's command log), not both",
    );
  if (flags.commandLog === true && flags.warmUpMs !== undefined)
    throw new CliError(EXIT.USAGE, "--warm-up-ms is for a backtest over several venues (--venue-workload NAME=FILE)");
  const source =
    flags.commandLog === true
      ? await (await import("./backtest-command-log.ts")).commandLogSource(flags, global, json)
      : workloadSource(flags);
  try {
    await runBacktest(flags, json, source, moduleFile, feePerLot, feeBps);
  } finally {
    await source.close?.();
  }
}

async function runBacktest(
  flags: BacktestFlags,
  json: boolean,
  source: BacktestSource,
  moduleFile: string | undefined,
  feePerLot: number,
  feeBps: number,
): Promise<void> {
  const built = await strategyOf(
    flags,
    moduleFile,
    source.instruments.map((i) => i.symbol),
  );
  const fills = fillsOf(flags);
  const bt = new Backtest({
    instruments: source.instruments,
    strategy: built.strategy,
    startMs: source.startMs,
    sampleEveryMs: source.sampleEveryMs,
    feePerLot,
    feeBps,
    ...(source.account !== undefined ? { account: source.account } : {}),
    ...(source.deferStart === true ? { deferStart: true } : {}),
    ...fills.option,
  });
  const bar =
    !json && process.stderr.isTTY && source.total > 100_000
      ? new SingleBar({
          format: `backtest [{bar}] {value}/{total} ${source.unit}  {eta}s left`,
          stream: process.stderr,
        })
      : undefined;
  bar?.start(source.total, 0);
  await source.run(bt, (n) => bar?.update(n));
  bar?.update(source.total);
  bar?.stop();
  const report = bt.report();
  const { json: ran, text, title } = source.summary();
  const name = flags.strategy ?? moduleFile!;
  if (flags.chart !== undefined) writeFileSync(flags.chart, chartSvg(bt.series, `${name} on ${title}`));
  fills.write();
  printResult(
    json,
    { strategy: name, params: built.params, ...ran, ...report },
    [
      `${name} over ${text} (${report.commands} commands, ${report.events} events)`,
      ...reportLines(report, flags.chart, flags.fills),
    ].join("\n"),
  );
}

const sideName = (side: number): string => (side === Side.BUY ? "buy" : side === Side.SELL ? "sell" : String(side));

/** With --fills FILE: the Backtest option that collects every fill, and the write of the CSV once it ran. */
export function fillsOf(flags: Pick<BacktestFlags, "fills">): {
  option: Pick<BacktestOptions, "onStrategyFill">;
  write: () => void;
} {
  const file = flags.fills;
  if (file === undefined) return { option: {}, write: () => {} };
  const rows = ["timeMs,instrument,side,price,qty"];
  return {
    option: {
      onStrategyFill: (f: Fill) => rows.push(`${f.timeMs},${f.instrument},${sideName(f.side)},${f.price},${f.qty}`),
    },
    write: () => writeFileSync(file, rows.join("\n") + "\n"),
  };
}

/** Flags only a command log takes, given without --command-log. */
function refuseLogFlags(flags: BacktestFlags): void {
  for (const [flag, given] of [
    ["--account", (flags.account ?? []).length > 0],
    ["--to-seq", flags.toSeq !== undefined],
    ["--partition", flags.partition !== undefined],
    ["-f", flags.file !== undefined],
    ["--nats-url", flags.natsUrl !== undefined],
  ] as const)
    if (given) throw new CliError(EXIT.USAGE, `${flag} reads a command log: give it with --command-log`);
}

/** A workload of the shared format on one instrument, one millisecond per line. */
function workloadSource(flags: BacktestFlags): BacktestSource {
  refuseLogFlags(flags);
  const file = singleWorkload(flags);
  const names = {
    unreadable: (code: string) => `cannot read ${file}: ${code}`,
    bad: (message: string) => `--workload ${file}: ${message}`,
  };
  // Two passes, a chunk at a time: the first checks every line and counts them (the
  // series' spacing depends on the count), the second plays them.
  const total = countWorkloadFile(file, names);
  let lines = 0;
  return {
    instruments: [WORKLOAD_INSTRUMENT],
    startMs: START_MS,
    sampleEveryMs: Math.max(1, Math.floor(total / 500)),
    total,
    unit: "lines",
    run: (bt, progress) => {
      lines = replayWorkload(bt.apply, workloadBatches(file, names), START_MS, progress);
    },
    summary: () => ({ json: { lines }, text: `${lines} lines`, title: file }),
  };
}

/** --fee-per-lot and --fee-bps, checked. */
export function feesOf(flags: Pick<BacktestFlags, "feePerLot" | "feeBps">): { feePerLot: number; feeBps: number } {
  const feePerLot = Number(flags.feePerLot);
  if (!Number.isSafeInteger(feePerLot) || feePerLot < 0)
    throw new CliError(EXIT.USAGE, `--fee-per-lot ${flags.feePerLot}: give minor units >= 0`);
  const feeBps = Number(flags.feeBps ?? "0");
  if (!Number.isSafeInteger(feeBps) || feeBps < 0 || feeBps > 10_000)
    throw new CliError(EXIT.USAGE, `--fee-bps ${flags.feeBps}: give whole basis points, 0 to 10000`);
  return { feePerLot, feeBps };
}

/** The report's text lines after the headline, whatever the flow. */
export function reportLines(report: BacktestReport, chart: string | undefined, fills?: string): string[] {
  return [
    `  orders sent ${report.orders}, refused by its limits ${report.refusedLocally}, by the gateway ${report.gatewayRejects}`,
    `  fills ${report.fills} (${report.filledQty} lots), fees ${report.fees}`,
    `  P&L: realised ${report.realisedPnl}, unrealised ${report.unrealisedPnl}, net ${report.netPnl}; max drawdown ${report.maxDrawdown}`,
    `  inventory ${report.inventoryMin} .. ${report.inventoryMax}; positions ${JSON.stringify(report.positions)}`,
    `  fills digest ${report.fillsDigest}`,
    ...(chart !== undefined ? [`  chart: ${chart}`] : []),
    ...(fills !== undefined ? [`  fills: ${fills}`] : []),
  ];
}

/** The built-in strategy named, or the user's module, made with the parameters given, for `instruments`. */
export async function strategyOf(
  flags: BacktestFlags,
  moduleFile: string | undefined,
  instruments: readonly string[],
): Promise<{ strategy: Strategy; params: Readonly<Record<string, unknown>> }> {
  const params = parseParams(flags.param);
  if ((flags.strategy === undefined) === (moduleFile === undefined))
    throw new CliError(EXIT.USAGE, "give --strategy NAME (built in) or --strategy-module FILE (yours), not both");
  if (flags.strategy !== undefined) {
    const built = buildStrategy(flags.strategy, params, instruments);
    if (!built.ok)
      throw new CliError(EXIT.USAGE, built.problems.map((p) => `--param ${p.field}: ${p.message}`).join("; "));
    return built;
  }
  try {
    const factory = await loadStrategyModule(moduleFile!);
    return { strategy: factory(params, instruments), params };
  } catch (err) {
    if (err instanceof StrategyModuleError) throw new CliError(EXIT.USAGE, `--strategy-module ${err.message}`);
    throw err;
  }
}
