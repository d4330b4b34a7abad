import type { BacktestFlags } from "./commands/backtest.ts";
import { Command, CommanderError, Option } from "commander";
import type { Target, TargetFlags } from "./client/target.ts";
import type { ReplayFlags } from "./commands/replay.ts";
import type { EventsExportFlags } from "./commands/events-export.ts";
import type { JournalTradesFlags } from "./commands/journal.ts";
import { addJournalRebuild } from "./commands/journal-rebuild-options.ts";
import { addCommandLogOptions } from "./commands/backtest-command-log-options.ts";
import type { LimitFlags } from "./commands/risk.ts";
import type { WorkloadFlags } from "./commands/workload.ts";
import { asCliError, CliError, EXIT } from "./errors.ts";

/** A command's function, loaded on first use: `tradeplane --help` does not load gRPC, NATS or the engine. */
function lazy<M, K extends keyof M>(load: () => Promise<M>, name: K): M[K] {
  return (async (...args: unknown[]) => ((await load())[name] as (...a: unknown[]) => unknown)(...args)) as M[K];
}
const order = () => import("./commands/order.ts");
const market = () => import("./commands/market.ts");
const risk = () => import("./commands/risk.ts");
const venue = () => import("./commands/venue.ts");
const [submitOrder, cancelOrder, replaceOrder, listOrders] = [
  lazy(order, "submitOrder"),
  lazy(order, "cancelOrder"),
  lazy(order, "replaceOrder"),
  lazy(order, "listOrders"),
] as const;
const showBook = lazy(market, "showBook");
const showTrades = lazy(market, "showTrades");
const showBars = lazy(market, "showBars");
const showPositions = lazy(risk, "showPositions");
const killSwitch = lazy(risk, "killSwitch");
const createAccount = lazy(risk, "createAccount");
const setLimits = lazy(risk, "setLimits");
const issueToken = lazy(risk, "issueToken");
const listTokens = lazy(risk, "listTokens");
const revokeToken = lazy(risk, "revokeToken");
const showStatus = lazy(venue, "showStatus");
const haltOrResume = lazy(venue, "haltOrResume");
const replay = lazy(() => import("./commands/replay.ts"), "replay");
const journalCommands = () => import("./commands/journal.ts");
const journalTrades = lazy(journalCommands, "journalTrades");
const journalAudit = lazy(journalCommands, "journalAudit");
const journalOtr = lazy(journalCommands, "journalOtr");
const journalRegister = lazy(journalCommands, "journalRegister");
const journalObligations = lazy(journalCommands, "journalObligations");
const eventsExport = lazy(() => import("./commands/events-export.ts"), "eventsExport");
const up = lazy(() => import("./commands/up.ts"), "up");
const validate = lazy(() => import("./commands/validate.ts"), "validate");
const workload = lazy(() => import("./commands/workload.ts"), "workload");

/**
 * The tradeplane command: local mode (`up`), inspection, order entry and administration of
 * a venue. Exit codes: 0 ok, 1 refused by the venue, 2 bad usage or input, 3 endpoint
 * unreachable, 4 bad or missing token, 5 not found, 10 anything else.
 */
export function program(): Command {
  const cli = new Command("tradeplane")
    .description("Run and operate a Tradeplane trading venue")
    .option("--data-dir <dir>", "local venue folder (default: $TP_DATA_DIR or ./.tradeplane)")
    .option("--endpoint <host:port>", "talk to this endpoint instead of the local venue's ($TP_ENDPOINT)")
    .option(
      "--engine <partition=host:port>",
      "a partition's engine for status, halt and resume; repeat for each (default $TP_ENGINES, P=host:port,...)",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("--token <token>", "bearer token for order entry ($TP_TOKEN; default: the local demo account's)")
    .option("--token-file <file>", "file holding the order entry token ($TP_TOKEN_FILE); keeps it off the command line")
    .option("--admin-token <token>", "bearer token for admin calls ($TP_ADMIN_TOKEN; default: the local one)")
    .option("--admin-token-file <file>", "file holding the admin token ($TP_ADMIN_TOKEN_FILE)")
    .option("--tls-ca <file>", "TLS to the endpoint: CA certificate, PEM ($TP_TLS_CA)")
    .option("--tls-cert <file>", "client certificate for mutual TLS, PEM ($TP_TLS_CERT)")
    .option("--tls-key <file>", "its private key, PEM ($TP_TLS_KEY)")
    .option("--json", "print JSON for scripts instead of tables")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  /** Runs a client command with the global flags, closing its connections after. */
  const withTarget =
    <A extends unknown[]>(action: (target: Target, ...args: A) => Promise<void> | void) =>
    async (...args: A) => {
      const { Target } = await import("./client/target.ts");
      const target = new Target(cli.opts<TargetFlags>());
      try {
        await action(target, ...args);
      } finally {
        target.close();
      }
    };

  cli
    .command("up")
    .description("run a venue on this machine from a TradingVenue manifest (Ctrl-C stops it)")
    .option(
      "-f, --file <file>",
      "manifest: one TradingVenue, and StrategyDeployments to run against it (repeat; default examples/venue.yaml and examples/demo-strategies.yaml)",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("--headless", "no live view: service logs on stdout (for scripts and CI)")
    .option("--port-base <port>", "nats-server listens here, services on the next ports", "7400")
    .action((flags: { file: string[]; headless?: boolean; portBase: string }) =>
      up({
        ...flags,
        ...(cli.opts<TargetFlags>().dataDir !== undefined ? { dataDir: cli.opts<TargetFlags>().dataDir! } : {}),
      }),
    );

  cli
    .command("validate")
    .description("check TradingVenue / StrategyDeployment manifests")
    .requiredOption("-f, --file <file>", "manifest file")
    .action((flags: { file: string }) => validate(flags.file, cli.opts<TargetFlags>().json === true));

  const backtestCommand = cli
    .command("backtest")
    .description(
      "run a strategy, built in or yours, over a workload, a venue's command log or recorded events, or several venues' workloads, on the real matching core (same input, same output)",
    )
    .option(
      "--strategy <name>",
      "built-in strategy: market-maker, twap, momentum-taker, noise-taker; smart-order-router across venues",
    )
    .option(
      "--strategy-module <file>",
      "your strategy module (exports strategy(params, instruments), or a Strategy as default)",
    )
    .option("--module <file>", "the same as --strategy-module")
    .option("--param <name=value>", "a strategy parameter (repeat)", (v: string, all: string[]) => [...all, v], [])
    .option("--workload <file>", "order stream of the shared workload format (N/C/R lines)")
    .option("--events <file>", "a recording of a venue's events (`tradeplane events export`), instead of --workload")
    .option(
      "--venue-workload <name=file>",
      "one venue's order stream, for a strategy across venues (smart-order-router): repeat, two or more",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("--warm-up-ms <ms>", "across venues: flow time before the strategy starts, while the books build")
    .option("--chart <file.svg>", "write P&L and inventory over time as SVG")
    .option("--fills <file.csv>", "write every fill of the strategy (timeMs,instrument,side,price,qty)")
    .option("--fee-per-lot <minor units>", "fee charged per lot filled", "0")
    .option(
      "--fee-bps <basis points>",
      "fee per fill in whole basis points of its notional, rounded up to the minor unit",
      "0",
    )
    .action(async (flags: BacktestFlags) => {
      const { backtest } = await import("./commands/backtest.ts");
      await backtest(flags, cli.opts<TargetFlags>().json === true, cli.opts<TargetFlags>());
    });
  addCommandLogOptions(backtestCommand);

  cli
    .command("workload")
    .description(
      "write a synthetic order flow of the shared workload format (N/C/R lines) for `backtest --workload`: same flags, same bytes",
    )
    .option("--seed <n>", "random seed, a whole number >= 0 (required)")
    .option("--orders <n>", "lines to write: new orders, cancels and replaces, 1..50000000 (required)")
    .option("--depth <n>", "soft target of resting orders, 1..1000000 (default 2000)")
    .option("--out <file>", "the file to write (default, or -: stdout)")
    .action((flags: WorkloadFlags) => workload(flags, cli.opts<TargetFlags>().json === true));

  cli
    .command("status")
    .description("engines, their log positions and the services' readiness")
    .action(withTarget((t) => showStatus(t)));

  const order = cli.command("order").description("enter, cancel and replace orders");
  order
    .command("submit <symbol>")
    .description("submit an order; prices in the currency (e.g. 1300.05)")
    .requiredOption("--account <name>", "account to trade")
    .addOption(new Option("--side <side>", "buy or sell").choices(["buy", "sell"]).makeOptionMandatory())
    .requiredOption("--qty <lots>", "quantity in lots")
    .option("--price <price>", "limit price")
    .addOption(new Option("--type <type>", "order type").choices(["limit", "market"]).default("limit"))
    .addOption(
      new Option("--tif <tif>", "time in force (default day; ioc for market)").choices(["day", "gtc", "ioc", "fok"]),
    )
    .option("--client-order-id <id>", "your id for the order (default: a new UUID)")
    .option("--post-only", "refuse the order if it would take liquidity")
    .action(withTarget((t, symbol: string, flags: Parameters<typeof submitOrder>[2]) => submitOrder(t, symbol, flags)));
  order
    .command("cancel <symbol>")
    .requiredOption("--account <name>", "account of the order")
    .option("--order-id <id>", "venue order id")
    .option("--client-order-id <id>", "the order's client order id")
    .action(withTarget((t, symbol: string, flags: Parameters<typeof cancelOrder>[2]) => cancelOrder(t, symbol, flags)));
  order
    .command("replace <symbol>")
    .requiredOption("--account <name>", "account of the order")
    .option("--order-id <id>", "venue order id")
    .option("--client-order-id <id>", "the order's client order id")
    .requiredOption("--qty <lots>", "new total quantity in lots")
    .option("--price <price>", "new limit price")
    .action(
      withTarget((t, symbol: string, flags: Parameters<typeof replaceOrder>[2]) => replaceOrder(t, symbol, flags)),
    );
  order
    .command("list")
    .description("open orders of an account")
    .requiredOption("--account <name>", "account")
    .option("--symbol <symbol>", "only this instrument")
    .action(withTarget((t, flags: { account: string; symbol?: string }) => listOrders(t, flags)));

  cli
    .command("book <symbol>")
    .description("the aggregated order book")
    .option("--depth <levels>", "levels per side", "10")
    .action(withTarget((t, symbol: string, flags: { depth: string }) => showBook(t, symbol, flags)));
  cli
    .command("trades <symbol>")
    .description("the latest trades")
    .option("--limit <n>", "how many", "20")
    .action(withTarget((t, symbol: string, flags: { limit: string }) => showTrades(t, symbol, flags)));
  cli
    .command("bars <symbol>")
    .description("OHLCV bars")
    .option("--interval <interval>", "1s, 1m, 5m, 15m, 1h or 1d", "1m")
    .option("--limit <n>", "how many", "30")
    .action(withTarget((t, symbol: string, flags: { interval: string; limit: string }) => showBars(t, symbol, flags)));
  cli
    .command("positions <account>")
    .description("positions and P&L of an account")
    .action(withTarget((t, account: string) => showPositions(t, account)));

  cli
    .command("halt [symbol]")
    .description("halt trading of an instrument, or of every instrument with --all")
    .option("--all", "every instrument of the venue")
    .option("--reason <text>", "why (shown on the STATE channel)")
    .action(
      withTarget((t, symbol: string | undefined, flags: { all?: boolean; reason?: string }) =>
        haltOrResume(t, "halt", symbol, flags),
      ),
    );
  cli
    .command("resume [symbol]")
    .description("resume trading of an instrument, or of every instrument with --all")
    .option("--all", "every instrument of the venue")
    .option("--reason <text>", "why (shown on the STATE channel)")
    .option("--auction", "resume into a re-opening call auction (PRE_OPEN)")
    .action(
      withTarget((t, symbol: string | undefined, flags: { all?: boolean; reason?: string; auction?: boolean }) =>
        haltOrResume(t, "resume", symbol, flags),
      ),
    );

  cli
    .command("kill-switch <action>")
    .description("engage, release or list kill switches")
    .option("--account <name>", "one account")
    .option("--venue", "every account of the venue")
    .option("--reason <text>", "why")
    .option("--keep-open-orders", "engage without cancelling open orders")
    .action(
      withTarget(
        async (
          t,
          action: string,
          flags: { account?: string; venue?: boolean; reason?: string; keepOpenOrders?: boolean },
        ) => {
          if (action !== "engage" && action !== "release" && action !== "list")
            throw new CliError(EXIT.USAGE, `kill-switch ${action}: must be engage, release or list`);
          await killSwitch(t, action, flags);
        },
      ),
    );

  const limitOptions = (c: Command) =>
    c
      .option("--max-order-qty <lots>", "largest order quantity")
      .option("--max-order-notional <units>", "largest order value in money units (paise)")
      .option("--price-collar-bps <bps>", "largest distance from the reference price")
      .option("--max-position <lots>", "largest position per instrument")
      .option("--credit-limit <units>", "largest credit use in money units")
      .option("--max-orders-per-second <n>", "largest request rate")
      .option("--restricted <symbols>", "comma-separated instruments the account may not trade");
  const accounts = cli.command("accounts").description("trading accounts and their limits");
  accounts
    .command("create <name>")
    .option("--display-name <text>", "name for people")
    .option("--principal <principal...>", "token subjects allowed to trade it (default: the account name)")
    .action(
      withTarget((t, name: string, flags: { displayName?: string; principal?: string[] }) =>
        createAccount(t, name, flags),
      ),
    );
  limitOptions(accounts.command("set-limits <name>").description("replace an account's limits as a whole")).action(
    withTarget((t, name: string, flags: LimitFlags) => setLimits(t, name, flags)),
  );

  const tokens = cli
    .command("tokens")
    .description("OrderEntry bearer tokens of accounts (needs the venue-operator role)");
  tokens
    .command("issue <account>")
    .description("issue a token for a principal of an account; the secret is printed once")
    .option("--principal <principal>", "the principal it stands for (default: the account name)")
    .option("--description <text>", "what it is for")
    .action(
      withTarget((t, account: string, flags: { principal?: string; description?: string }) =>
        issueToken(t, account, flags),
      ),
    );
  tokens
    .command("list <account>")
    .description("the tokens that trade an account, without their secrets")
    .action(withTarget((t, account: string) => listTokens(t, account)));
  tokens
    .command("revoke <token-id>")
    .description("revoke a token by the id `tokens list` shows")
    .option("--reason <text>", "why, for the audit log")
    .action(withTarget((t, tokenId: string, flags: { reason?: string }) => revokeToken(t, tokenId, flags)));

  cli
    .command("replay")
    .description("rebuild the books and positions as they were after a command of the log")
    .requiredOption("--to-seq <n>", "last command to apply (a command sequence, as `status` shows)")
    .option("--depth <levels>", "book levels to keep", "5")
    .option("-f, --file <file>", "another venue's TradingVenue manifest (with --nats-url)")
    .option("--nats-url <url>", "read that venue's log from this NATS instead of the local venue's")
    .option("--nats-creds <file>", "NATS .creds file (JWT and NKey seed)")
    .option("--nats-token-file <file>", "file holding a NATS token")
    .option("--nats-tls-ca <file>", "CA of the NATS server's certificate, PEM")
    .option("--nats-tls-cert <file>", "client certificate for NATS, PEM")
    .option("--nats-tls-key <file>", "its private key, PEM")
    .action(withTarget((t, flags: ReplayFlags) => replay(t, flags)));

  cli
    .command("events")
    .description("the venue's event stream")
    .command("export")
    .description("write the venue's recorded events to a file, for `backtest --events` (accounts renamed)")
    .requiredOption("--out <file>", "the recording to write")
    .option("-f, --file <file>", "another venue's TradingVenue manifest (with --nats-url)")
    .option("--nats-url <url>", "read that venue's events from this NATS instead of the local venue's")
    .option("--nats-creds <file>", "NATS .creds file (JWT and NKey seed)")
    .option("--nats-token-file <file>", "file holding a NATS token")
    .option("--nats-tls-ca <file>", "CA of the NATS server's certificate, PEM")
    .option("--nats-tls-cert <file>", "client certificate for NATS, PEM")
    .option("--nats-tls-key <file>", "its private key, PEM")
    .action(withTarget((t, flags: EventsExportFlags) => eventsExport(t, flags)));

  const journal = cli
    .command("journal")
    .description(
      "the trade journal: trades, audit trails, order-to-trade ratios, the register, clearing obligations, rebuild",
    );
  journal
    .command("trades")
    .description("executions (each account's side of a trade), oldest first")
    .option("--account <name>", "only this account")
    .option("--instrument <symbol>", "only this instrument")
    .option("--from <time>", "at or after this ISO time with its zone, e.g. 2026-12-03T09:15:00+05:30")
    .option("--to <time>", "before this ISO time with its zone")
    .option("--limit <n>", "most rows, 1..10000 (default 1000)")
    .action(withTarget((t, flags: JournalTradesFlags) => journalTrades(t, flags)));
  journal
    .command("audit <order-id>")
    .description("every event of one order, with the command and log entry that caused it and its fills")
    .action(withTarget((t, orderId: string) => journalAudit(t, orderId)));
  journal
    .command("otr")
    .description("order-to-trade ratio per account for a trading day")
    .option("--day <YYYY-MM-DD>", "trading day of the venue's calendar (required)")
    .option("--account <name>", "only this account")
    .action(withTarget((t, flags: { day?: string; account?: string }) => journalOtr(t, flags)));
  journal
    .command("register")
    .description("the end-of-day trade register of a trading day, as CSV")
    .option("--day <YYYY-MM-DD>", "trading day of the venue's calendar (required)")
    .option("--out <file.csv>", "write to this new file (mode 0600) instead of stdout")
    .action(withTarget((t, flags: { day?: string; out?: string }) => journalRegister(t, flags)));
  journal
    .command("obligations")
    .description("clearing obligations of a trading day: net securities per account and instrument, net funds")
    .option("--day <YYYY-MM-DD>", "trading day of the venue's calendar (required)")
    .option("--account <name>", "only this account")
    .action(withTarget((t, flags: { day?: string; account?: string }) => journalObligations(t, flags)));
  addJournalRebuild(journal, withTarget);

  return cli;
}

/** Runs the CLI; prints one line per error and sets the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version print and end with 0; usage errors were printed by commander.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const e = asCliError(err);
    process.stderr.write(`tradeplane: ${e.message}\n`);
    return e.exitCode;
  }
}

/** Runs the CLI as a program: exits with its code once stdout is flushed. */
export async function runAsProgram(argv: readonly string[]): Promise<void> {
  const code = await run(argv);
  // gRPC channels and timers of a finished command must not keep the process alive.
  process.stdout.write("", () => process.exit(code));
}

if (import.meta.main) await runAsProgram(process.argv.slice(2));
