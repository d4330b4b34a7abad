import { readFileSync, writeFileSync } from "node:fs";
import { SingleBar } from "cli-progress";
import {
  Backtest,
  chartSvg,
  loadStrategyModule,
  parseWorkload,
  replayWorkload,
  StrategyModuleError,
  WORKLOAD_INSTRUMENT,
  WorkloadError,
  type BacktestReport,
  type Workload,
} from "@tradeplane/backtest";
import type { Strategy } from "@tradeplane/sdk";
import { buildStrategy } from "@tradeplane/strategies";
import { CliError, EXIT } from "../errors.ts";
import { backtestVenues, singleWorkload, wantsVenues, type VenueFlags } from "./backtest-venues.ts";
import { printResult } from "../output.ts";

export interface BacktestFlags extends VenueFlags {
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
  readonly feePerLot: string;
  readonly feeBps: string;
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
 * Runs a built-in strategy over a workload of the shared format on the real matching core,
 * the gateway's projection and checks, at full speed. Same input, same output.
 */
export async function backtest(flags: BacktestFlags, json: boolean): Promise<void> {
  const moduleFile = flags.strategyModule ?? flags.module;
  const { feePerLot, feeBps } = feesOf(flags);
  if (flags.events !== undefined) {
    if (flags.workload !== undefined || wantsVenues(flags) || flags.warmUpMs !== undefined)
      throw new CliError(
        EXIT.USAGE,
        "--events FILE is one venue's recording: give it alone, without --workload, --venue-workload, --warm-up-ms or a strategy across venues",
      );
    const { backtestEvents } = await import("./backtest-events.ts");
    return backtestEvents(flags, flags.events, json);
  }
  if (wantsVenues(flags))
    return backtestVenues(flags, json, { params: parseParams(flags.param), feePerLot, feeBps, startMs: START_MS });
  const workload = singleWorkload(flags);
  const built = await strategyOf(flags, moduleFile, [WORKLOAD_INSTRUMENT.symbol]);
  let text: string;
  try {
    text = readFileSync(workload, "utf8");
  } catch (err) {
    throw new CliError(EXIT.USAGE, `cannot read ${workload}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const total = text.split("\n", 10_000_000).length - 1;
  const bt = new Backtest({
    instruments: [WORKLOAD_INSTRUMENT],
    strategy: built.strategy,
    startMs: START_MS,
    sampleEveryMs: Math.max(1, Math.floor(total / 500)),
    feePerLot,
    feeBps,
  });
  const bar =
    !json && process.stderr.isTTY && total > 100_000
      ? new SingleBar({ format: "backtest [{bar}] {value}/{total} lines  {eta}s left", stream: process.stderr })
      : undefined;
  bar?.start(total, 0);
  let workloadParsed: Workload;
  try {
    workloadParsed = parseWorkload(text);
  } catch (err) {
    if (err instanceof WorkloadError) throw new CliError(EXIT.USAGE, `--workload ${workload}: ${err.message}`);
    throw err;
  }
  const lines = replayWorkload(bt.apply, workloadParsed, START_MS, (n) => bar?.update(n));
  bar?.update(lines);
  bar?.stop();
  const report = bt.report();
  if (flags.chart !== undefined)
    writeFileSync(flags.chart, chartSvg(bt.series, `${flags.strategy ?? moduleFile} on ${workload}`));
  const name = flags.strategy ?? moduleFile!;
  printResult(
    json,
    { strategy: name, params: built.params, lines, ...report },
    [
      `${name} over ${lines} lines (${report.commands} commands, ${report.events} events)`,
      ...reportLines(report, flags.chart),
    ].join("\n"),
  );
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
export function reportLines(report: BacktestReport, chart: string | undefined): string[] {
  return [
    `  orders sent ${report.orders}, refused by its limits ${report.refusedLocally}, by the gateway ${report.gatewayRejects}`,
    `  fills ${report.fills} (${report.filledQty} lots), fees ${report.fees}`,
    `  P&L: realised ${report.realisedPnl}, unrealised ${report.unrealisedPnl}, net ${report.netPnl}; max drawdown ${report.maxDrawdown}`,
    `  inventory ${report.inventoryMin} .. ${report.inventoryMax}; positions ${JSON.stringify(report.positions)}`,
    `  fills digest ${report.fillsDigest}`,
    ...(chart !== undefined ? [`  chart: ${chart}`] : []),
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
