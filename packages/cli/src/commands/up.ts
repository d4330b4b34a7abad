import { resolve } from "node:path";
import { venueFrom } from "@tradeplane/operator/api/v1alpha1";
import { CliError, EXIT } from "../errors.ts";
import { Dashboard } from "../local/dashboard.ts";
import { LocalVenue } from "../local/local-venue.ts";
import { defaultDataDir } from "../local/paths.ts";
import { parseCount } from "../prices.ts";
import { loadManifests } from "./validate.ts";

export interface UpFlags {
  /** Manifest files: exactly one TradingVenue among them, and any StrategyDeployments to run. */
  readonly file: readonly string[];
  readonly dataDir?: string;
  readonly headless?: boolean;
  readonly portBase: string;
}

/** What `up` runs without `-f`: the demo venue and the strategies that make its market. */
export const DEFAULT_MANIFESTS = ["examples/venue.yaml", "examples/demo-strategies.yaml"] as const;

/**
 * `tradeplane up`: runs the venue of a manifest on this machine until Ctrl-C (or SIGTERM),
 * then stops everything in order. The log stays in the data folder, so the next `up`
 * resumes with the same books and positions.
 */
export async function up(flags: UpFlags): Promise<void> {
  const files = flags.file.length > 0 ? flags.file : DEFAULT_MANIFESTS;
  const loaded = files.map((f) => ({ file: f, manifests: loadManifests(f) }));
  const manifests = loaded.flatMap((l) => l.manifests);
  const venue = venueFrom(manifests, files.join(", "));
  const manifestPath = resolve(loaded.find((l) => l.manifests.includes(venue))!.file);
  const portBase = parseCount(flags.portBase, "--port-base", 1024);
  if (portBase > 65_000) throw new CliError(EXIT.USAGE, `--port-base ${portBase}: must be at most 65000`);
  const headless = flags.headless === true || !process.stdout.isTTY;
  // `npm start | tee log` and Ctrl-C: the terminal's SIGINT ends the reader of our output too,
  // and the next write fails with EPIPE, which Node raises as an uncaught error: `up` died
  // before stopping nats-server (in its own process group, so the SIGINT never reached it).
  // Output is dropped once its reader is gone, and a closed output stops the venue like a signal.
  let outputClosed = false;
  const write = (text: string): void => {
    if (!outputClosed) process.stdout.write(text);
  };
  const say = (line: string) => write(`[tradeplane] ${line}\n`);
  const strategies = manifests.filter((m) => m.kind === "StrategyDeployment");
  for (const s of strategies)
    if (s.spec.venueRef.name !== venue.metadata.name)
      say(
        `StrategyDeployment ${s.metadata.name} names venue ${s.spec.venueRef.name}, not ${venue.metadata.name}: not run`,
      );

  const local = new LocalVenue({
    venue,
    manifestPath,
    dataDir: defaultDataDir(flags.dataDir),
    portBase,
    say,
    strategies,
    ...(headless ? { onLine: (name: string, line: string) => write(`[${name}] ${line}\n`) } : {}),
  });

  let stopping: Promise<void> | undefined;
  let dashboard: Dashboard | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      dashboard?.stop();
      say(`${signal}: stopping the venue (its log stays in ${local.dirs.root})`);
      await local.stop();
      say("stopped");
    })();
    return stopping;
  };
  const stopped = new Promise<void>((done) => {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
      process.on(signal, () => void stop(signal).then(done));
    process.stdout.on("error", () => {
      outputClosed = true;
      void stop("output closed").then(done);
    });
  });

  let state;
  try {
    state = await local.start();
  } catch (err) {
    await local.stop().catch(() => undefined);
    throw err;
  }

  const e = state.endpoints;
  say(`venue "${state.venue}" is up`);
  say(`  order entry (gRPC)   ${e.orderEntry}     tradeplane.v1.OrderEntry, RiskAdmin`);
  say(`  market data (gRPC)   ${e.marketData}     tradeplane.v1.MarketData`);
  say(`  market data (ws)     ${e.marketDataWs}`);
  say(`  venue admin (gRPC)   ${e.engines.map((x) => x.grpc).join(", ")}`);
  say(`  metrics              ${e.engines.map((x) => x.ops).join(", ")}, ${e.riskOps}, ${e.marketDataOps} (/metrics)`);
  for (const a of state.accounts) say(`  account ${a.name.padEnd(11)} token ${a.token}`);
  say(`  admin token          ${state.adminToken}`);
  say(
    `  tokens and endpoints are in ${local.dirs.state}; try: npx tradeplane book ${venue.spec.instruments[0]!.symbol}`,
  );

  const running = strategies.filter((s) => s.spec.venueRef.name === venue.metadata.name && !s.spec.paused);
  if (running.length === 0)
    say(`no strategies: the market is quiet until you trade (${DEFAULT_MANIFESTS[1]} runs the demo's)`);
  if (!headless) {
    dashboard = new Dashboard(venue, state, () => local.services());
    dashboard.start();
  }
  await stopped;
}
