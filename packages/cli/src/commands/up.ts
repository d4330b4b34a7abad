import { join, resolve } from "node:path";
import { venuesOf, type TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { ConfigError } from "@tradeplane/platform";
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

/** Ports between the bases of two venues run at once (each takes its base and the next ones). */
export const VENUE_PORT_SPAN = 100;

/** What `up` runs without `-f`: the demo venue and the strategies that make its market. */
export const DEFAULT_MANIFESTS = ["examples/venue.yaml", "examples/demo-strategies.yaml"] as const;

/**
 * `tradeplane up`: runs the venue of a manifest (or several venues, the first of them the one
 * shown) on this machine until Ctrl-C (or SIGTERM), with the StrategyDeployments given, then
 * stops everything in order. The log stays in the data folder, so the next `up`
 * resumes with the same books and positions.
 */
export async function up(flags: UpFlags): Promise<void> {
  const files = flags.file.length > 0 ? flags.file : DEFAULT_MANIFESTS;
  const loaded = files.map((f) => ({ file: f, manifests: loadManifests(f) }));
  const manifests = loaded.flatMap((l) => l.manifests);
  const venues = manifests.filter((m): m is TradingVenue => m.kind === "TradingVenue");
  if (venues.length === 0) throw new ConfigError(`${files.join(", ")}: must hold a TradingVenue`);
  const names = venues.map((v) => v.metadata.name);
  if (new Set(names).size !== names.length)
    throw new ConfigError(`${files.join(", ")}: names a TradingVenue twice (${names.join(", ")})`);
  const venue = venues[0]!;
  const portBase = parseCount(flags.portBase, "--port-base", 1024);
  const lastBase = portBase + (venues.length - 1) * VENUE_PORT_SPAN;
  if (lastBase > 65_000)
    throw new CliError(EXIT.USAGE, `--port-base ${portBase}: must be at most ${65_000 - (lastBase - portBase)}`);
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
    for (const v of venuesOf(s.spec))
      if (!names.includes(v.venue))
        say(`StrategyDeployment ${s.metadata.name} names venue ${v.venue}, not one of ${names.join(", ")}: not run`);
  const runnable = strategies.filter((s) => venuesOf(s.spec).every((v) => names.includes(v.venue)));

  // Several venues (an NSE-like and a BSE-like one listing the same instruments): each its
  // own nats-server, streams, services and data folder, on ports VENUE_PORT_SPAN apart.
  const root = defaultDataDir(flags.dataDir);
  const locals = venues.map(
    (v, n) =>
      new LocalVenue({
        venue: v,
        manifestPath: resolve(loaded.find((l) => l.manifests.includes(v))!.file),
        dataDir: n === 0 ? root : join(root, "venues", v.metadata.name),
        portBase: portBase + n * VENUE_PORT_SPAN,
        say: n === 0 ? say : (line) => say(`${v.metadata.name}: ${line}`),
        strategies: runnable.filter((s) => s.spec.venueRef.name === v.metadata.name),
        extraAccounts: runnable.flatMap((s) =>
          (s.spec.venues ?? [])
            .filter((x) => x.venueRef.name === v.metadata.name)
            .map((x) => ({ name: x.account, limits: s.spec.limits })),
        ),
        ...(headless
          ? {
              onLine: (name: string, line: string) =>
                write(`[${n === 0 ? name : `${v.metadata.name}/${name}`}] ${line}\n`),
            }
          : {}),
      }),
  );
  const local = locals[0]!;

  let stopping: Promise<void> | undefined;
  let dashboard: Dashboard | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      dashboard?.stop();
      say(`${signal}: stopping the venue (its log stays in ${local.dirs.root})`);
      for (const l of locals) await l.stop();
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
    const states = [];
    for (const l of locals) states.push(await l.start());
    const peers = new Map(states.map((s) => [s.venue, s]));
    for (const l of locals) await l.startStrategies(peers);
    state = locals[0]!.state!;
  } catch (err) {
    for (const l of locals) await l.stop().catch(() => undefined);
    throw err;
  }

  for (const l of locals.slice(1)) {
    const s = l.state!;
    say(
      `venue "${s.venue}" is up too: order entry ${s.endpoints.orderEntry}, market data ${s.endpoints.marketData}; its tokens and endpoints are in ${l.dirs.state} (tradeplane --data-dir ${l.dirs.root} ...)`,
    );
  }
  const e = state.endpoints;
  say(`venue "${state.venue}" is up`);
  say(`  order entry (gRPC)   ${e.orderEntry}     tradeplane.v1.OrderEntry, RiskAdmin`);
  say(`  market data (gRPC)   ${e.marketData}     tradeplane.v1.MarketData`);
  say(`  market data (ws)     ${e.marketDataWs}`);
  say(`  venue admin (gRPC)   ${e.engines.map((x) => x.grpc).join(", ")}`);
  if (e.journal !== undefined) say(`  journal (gRPC)       ${e.journal}     tradeplane.v1.JournalQuery (admin token)`);
  const metrics = [
    ...e.engines.map((x) => x.ops),
    e.riskOps,
    e.marketDataOps,
    ...(e.fixOps !== undefined ? [e.fixOps] : []),
    ...(e.journalOps !== undefined ? [e.journalOps] : []),
  ];
  say(`  metrics              ${metrics.join(", ")} (/metrics)`);
  for (const s of e.strategies ?? []) say(`  strategy ${s.name.padEnd(11)} metrics ${s.ops}/metrics`);
  for (const a of state.accounts) say(`  account ${a.name.padEnd(11)} token ${a.token}`);
  say(`  admin token          ${state.adminToken}`);
  say(
    `  tokens and endpoints are in ${local.dirs.state}; try: npx tradeplane book ${venue.spec.instruments[0]!.symbol}`,
  );

  const running = runnable.filter((s) => !s.spec.paused);
  if (running.length === 0)
    say(`no strategies: the market is quiet until you trade (${DEFAULT_MANIFESTS[1]} runs the demo's)`);
  if (!headless) {
    dashboard = new Dashboard(venue, state, () => locals.flatMap((l) => l.services()));
    dashboard.start();
  }
  await stopped;
}
