import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { putAccount, putToken } from "@tradeplane/accounts";
import { accountsBucket } from "@tradeplane/contracts";
import { ensureLogFormat, provision, UnavailableError, venueProvisioningPlan } from "@tradeplane/platform";
import type { StrategyDeployment, TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import {
  engineServiceConfig,
  fixGatewayConfig,
  journalConfig,
  localPorts,
  marketDataConfig,
  partitionsOf,
  riskGatewayConfig,
  streamSettings,
  type Placement,
} from "@tradeplane/operator/service-configs";
import { findNatsServer, natsServerArgs, waitForNats, writeNatsServerConfig } from "./nats-server.ts";
import { dataDir, PROJECT_ROOT, serviceMain, type DataDir } from "./paths.ts";
import { newToken, readState, writeState, type LocalState } from "./state.ts";
import { Supervisor } from "./supervisor.ts";

/** Accounts local mode creates whatever it runs: one for you, two for your own scripts and tests. */
export const DEMO_ACCOUNTS = ["alice", "demo-mm", "demo-taker"] as const;

export interface LocalVenueOptions {
  readonly venue: TradingVenue;
  readonly manifestPath: string;
  readonly dataDir: string;
  readonly portBase: number;
  /** Called with each line a service writes (formatted), e.g. to echo it prefixed. */
  readonly onLine?: (name: string, line: string) => void;
  /** Progress messages of start and stop. */
  readonly say: (line: string) => void;
  /** StrategyDeployments to run against the venue, each with its own account and token. */
  readonly strategies?: readonly StrategyDeployment[];
  /**
   * Accounts of strategies run by another venue that trade here too (their spec.venues),
   * provisioned with the deployment's limits and a token.
   */
  readonly extraAccounts?: readonly { readonly name: string; readonly limits: StrategyDeployment["spec"]["limits"] }[];
}

/**
 * A whole venue on one machine: nats-server with JetStream in the data folder, the venue's
 * streams provisioned with the same plan the operator uses, each service as a supervised
 * child process configured from the same spec, demo accounts. The log in the data folder is
 * the venue's truth, so the next start resumes with the same books and positions.
 */
export class LocalVenue {
  readonly dirs: DataDir;
  private readonly options: LocalVenueOptions;
  private nats: ChildProcess | undefined;
  private natsExited: Promise<void> = Promise.resolve();
  private supervisor: Supervisor | undefined;
  private nc: NatsConnection | undefined;
  state: LocalState | undefined;

  constructor(options: LocalVenueOptions) {
    this.options = options;
    this.dirs = dataDir(options.dataDir);
  }

  async start(): Promise<LocalState> {
    const { venue, say } = this.options;
    const name = venue.metadata.name;
    for (const dir of [this.dirs.root, this.dirs.nats, this.dirs.logs, this.dirs.configs, this.dirs.secrets])
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    const previous = readState(this.dirs.state);
    if (previous !== undefined && previous.venue !== name)
      throw new UnavailableError(
        `${this.dirs.root} holds venue "${previous.venue}", not "${name}": use another --data-dir`,
      );
    if (previous?.pid !== undefined && previous.pid !== process.pid && isAlive(previous.pid))
      throw new UnavailableError(`venue "${name}" already runs here (pid ${previous.pid}); stop it first`);

    if (previous?.natsPid !== undefined) await stopStaleNats(previous.natsPid, this.dirs.nats, say);

    const strategies = (this.options.strategies ?? []).filter((s) => s.spec.venueRef.name === name);
    const ports = localPorts(this.options.portBase);
    const partitions = partitionsOf(venue);
    const fix = venue.spec.fix.enabled;
    const journal = venue.spec.journal.enabled;
    await assertPortsFree([
      this.options.portBase,
      ports.riskGrpc,
      ports.riskOps,
      ports.marketDataGrpc,
      ports.marketDataOps,
      ports.marketDataWs,
      ...(fix ? [ports.fix, ports.fixOps] : []),
      ...(journal ? [ports.journalGrpc, ports.journalOps] : []),
      ...partitions.flatMap((p) => [ports.engineGrpc(p), ports.engineOps(p)]),
    ]);

    const natsToken = previous?.natsToken ?? newToken();
    const adminToken = previous?.adminToken ?? newToken();
    const natsUrl = `nats://127.0.0.1:${this.options.portBase}`;
    const host = "127.0.0.1";
    const at = (port: number) => `${host}:${port}`;
    const state: LocalState = {
      venue: name,
      manifest: this.options.manifestPath,
      portBase: this.options.portBase,
      natsUrl,
      natsToken,
      adminToken,
      endpoints: {
        orderEntry: at(ports.riskGrpc),
        riskAdmin: at(ports.riskGrpc),
        marketData: at(ports.marketDataGrpc),
        marketDataWs: `ws://${at(ports.marketDataWs)}`,
        engines: partitions.map((p) => ({
          partition: p,
          grpc: at(ports.engineGrpc(p)),
          ops: `http://${at(ports.engineOps(p))}`,
        })),
        riskOps: `http://${at(ports.riskOps)}`,
        marketDataOps: `http://${at(ports.marketDataOps)}`,
        ...(fix ? { fix: at(ports.fix), fixOps: `http://${at(ports.fixOps)}` } : {}),
        ...(journal ? { journal: at(ports.journalGrpc), journalOps: `http://${at(ports.journalOps)}` } : {}),
      },
      // The accounts for you, those of the strategies given, and those the spec's FIX sessions trade.
      accounts: [
        ...new Set([
          ...DEMO_ACCOUNTS,
          ...strategies.map((s) => s.spec.account),
          ...(this.options.extraAccounts ?? []).map((a) => a.name),
          ...venue.spec.fix.sessions.map((s) => s.account),
        ]),
      ].map((account) => ({
        name: account,
        token: previous?.accounts.find((a) => a.name === account)?.token ?? newToken(),
      })),
      pid: process.pid,
    };

    // 1. nats-server with JetStream, its store in the data folder
    const binary = findNatsServer(say);
    say(`starting nats-server (${binary}) on ${natsUrl}, store ${this.dirs.nats}`);
    const natsLog = join(this.dirs.logs, "nats-server.log");
    const natsConfig = join(this.dirs.secrets, "nats-server.conf");
    writeNatsServerConfig(natsConfig, natsToken);
    this.nats = spawn(
      binary,
      [
        ...natsServerArgs({ port: this.options.portBase, storeDir: this.dirs.nats, configFile: natsConfig, name }),
        "--log",
        natsLog,
      ],
      { stdio: "ignore", detached: true },
    );
    const nats = this.nats;
    state.natsPid = nats.pid;
    this.natsExited = new Promise((resolve) => nats.once("exit", () => resolve()));
    await waitForNats(natsUrl, natsToken);
    this.nc = await connect({ servers: natsUrl, token: natsToken, name: "tradeplane-local" });

    // 2. streams and buckets: the operator's plan
    const changes = await provision(this.nc, venueProvisioningPlan(streamSettings(venue)));
    await ensureLogFormat(this.nc, name);
    say(`streams and buckets of venue "${name}" ready (${changes.length} created or updated)`);

    // 3. accounts and their tokens (existing accounts keep the limits set on them)
    const kv = await new Kvm(this.nc).open(accountsBucket(name));
    for (const { name: account, token } of state.accounts) {
      // A strategy's account starts with the limits of its StrategyDeployment.
      const limits =
        strategies.find((s) => s.spec.account === account)?.spec.limits ??
        this.options.extraAccounts?.find((a) => a.name === account)?.limits ??
        {};
      if ((await kv.get(`account.${account}`)) === null)
        await putAccount(kv, {
          name: account,
          disabled: false,
          principals: [account],
          limits,
          defaultStpMode: 0,
        });
      await putToken(kv, token, account);
    }
    writeState(this.dirs.state, state);
    this.state = state;

    // 4. the services, each from its configuration file; secrets in files of their own
    const secret = (name: string, value: string): string => {
      const file = join(this.dirs.secrets, name);
      writeFileSync(file, `${value}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      return file;
    };
    const adminTokenFile = secret("admin-token", adminToken);
    const placement: Placement = {
      natsUrl: [natsUrl],
      natsTokenFile: secret("nats-token", natsToken),
      // Local mode has one admin: the token of the state file holds every role.
      adminTokenFiles: { venueOperator: adminTokenFile, riskOfficer: adminTokenFile, readOnly: adminTokenFile },
      host,
      ports,
    };
    this.supervisor = new Supervisor({
      ...(this.options.onLine !== undefined ? { onLine: this.options.onLine } : {}),
      onCrash: (service, code, signal, delayMs) =>
        say(`${service} exited (code ${code}, signal ${signal}); restarting in ${delayMs} ms`),
    });
    const run = (service: string, main: string, config: object) => this.run(service, main, config);
    for (const p of partitions) run(`engine-${p}`, serviceMain("matching"), engineServiceConfig(venue, p, placement));
    run("risk", serviceMain("risk"), riskGatewayConfig(venue, placement));
    run("market-data", serviceMain("market-data"), marketDataConfig(venue, placement));
    // The FIX gateway reads each session's account token from a file of its own (0600).
    const tokenFile = (account: string) => join(this.dirs.configs, `fix-${account}.token`);
    for (const { name: account, token } of state.accounts)
      writeFileSync(tokenFile(account), `${token}\n`, { mode: 0o600 });
    const fixConfig = fixGatewayConfig(venue, placement, state.endpoints, tokenFile);
    if (fixConfig !== undefined) run("fix-gateway", serviceMain("fix-gateway"), fixConfig);
    // The journal embeds PGlite in the data folder: the same SQL and migrations as PostgreSQL.
    const journalCfg = journalConfig(venue, placement, { pgliteDir: this.dirs.journal });
    if (journalCfg !== undefined) {
      mkdirSync(this.dirs.journal, { recursive: true, mode: 0o700 });
      run("journal", serviceMain("journal"), journalCfg);
    }

    // 5. ready when every service says so (the FIX gateway lists instruments from market data first)
    await this.waitReady([
      ...state.endpoints.engines.map((e) => [`engine-${e.partition}`, e.ops] as const),
      ["risk", state.endpoints.riskOps] as const,
      ["market-data", state.endpoints.marketDataOps] as const,
      ...(state.endpoints.fixOps !== undefined ? [["fix-gateway", state.endpoints.fixOps] as const] : []),
      ...(state.endpoints.journalOps !== undefined ? [["journal", state.endpoints.journalOps] as const] : []),
    ]);

    return state;
  }

  /**
   * 6. The strategies of this venue: the spec and the token as files, as a pod mounts them.
   * A strategy across venues also gets each further venue's services and its token there,
   * from `peers` (the other venues local mode runs, by name). Each runtime's ops port is
   * chosen here, kept across its restarts, and recorded in the state file.
   */
  async startStrategies(peers: ReadonlyMap<string, LocalState> = new Map()): Promise<void> {
    const state = this.state!;
    const endpoints: { name: string; ops: string }[] = [];
    const strategies = (this.options.strategies ?? []).filter((s) => s.spec.venueRef.name === state.venue);
    const write = (file: string, text: string) => writeFileSync(file, text, { mode: 0o600 });
    for (const s of strategies) {
      if (s.spec.paused) {
        this.options.say(`StrategyDeployment ${s.metadata.name} is paused: not started`);
        continue;
      }
      const base = join(this.dirs.configs, `strategy-${s.metadata.name}`);
      write(`${base}.spec.json`, JSON.stringify(s, null, 2) + "\n");
      write(`${base}.token`, state.accounts.find((a) => a.name === s.spec.account)!.token + "\n");
      const venues = (s.spec.venues ?? []).map((v) => {
        const peer = peers.get(v.venueRef.name);
        if (peer === undefined)
          throw new UnavailableError(
            `StrategyDeployment ${s.metadata.name} trades on venue ${v.venueRef.name}: give its TradingVenue manifest too (-f)`,
          );
        const tokenFile = `${base}.${v.venueRef.name}.token`;
        write(tokenFile, peer.accounts.find((a) => a.name === v.account)!.token + "\n");
        return {
          venue: v.venueRef.name,
          orderEntry: peer.endpoints.orderEntry,
          marketData: peer.endpoints.marketData,
          tokenFile,
        };
      });
      mkdirSync(this.dirs.reports, { recursive: true, mode: 0o700 });
      const opsPort = await freeLoopbackPort();
      endpoints.push({ name: s.metadata.name, ops: `http://127.0.0.1:${opsPort}` });
      this.run(`strategy-${s.metadata.name}`, serviceMain("strategy-runtime"), {
        specFile: `${base}.spec.json`,
        tokenFile: `${base}.token`,
        orderEntry: state.endpoints.orderEntry,
        marketData: state.endpoints.marketData,
        venues,
        ...(venues.length > 0 ? { reportFile: join(this.dirs.reports, `${s.metadata.name}.json`) } : {}),
        opsHost: "127.0.0.1",
        opsPort,
      });
      const where = [`${s.spec.account}`, ...(s.spec.venues ?? []).map((v) => `${v.account} on ${v.venueRef.name}`)];
      this.options.say(
        `StrategyDeployment ${s.metadata.name} runs as strategy-${s.metadata.name} (account ${where.join(", ")})`,
      );
    }
    const { strategies: _previous, ...rest } = state.endpoints;
    this.state = { ...state, endpoints: endpoints.length > 0 ? { ...rest, strategies: endpoints } : rest };
    writeState(this.dirs.state, this.state);
  }

  /** One supervised service from its configuration file. */
  private run(service: string, main: string, config: object): void {
    const file = join(this.dirs.configs, `${service}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
    this.supervisor!.start({
      name: service,
      command: process.execPath,
      args: [main],
      env: { TP_CONFIG_FILE: file, TP_INSTANCE_ID: `local-${service}` },
      cwd: PROJECT_ROOT,
      logFile: join(this.dirs.logs, `${service}.log`),
    });
  }

  private async waitReady(services: readonly (readonly [string, string])[], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const [service, ops] of services) {
      for (;;) {
        try {
          const res = await fetch(`${ops}/readyz`, { signal: AbortSignal.timeout(1_000) });
          if (res.ok) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline)
          throw new UnavailableError(
            `${service} did not become ready in ${timeoutMs / 1000} s; see ${join(this.dirs.logs, `${service}.log`)}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
      this.options.say(`${service} ready`);
    }
  }

  /** Supervised services and their restart counts. */
  services() {
    return this.supervisor?.status() ?? [];
  }

  /** Stops the services (newest first), then nats-server; the log stays in the data folder. */
  async stop(): Promise<void> {
    await this.supervisor?.stop();
    await this.nc?.close().catch(() => undefined);
    if (this.nats !== undefined && this.nats.exitCode === null && this.nats.signalCode === null) {
      this.nats.kill("SIGTERM");
      const killer = setTimeout(() => this.nats?.kill("SIGKILL"), 10_000);
      await this.natsExited;
      clearTimeout(killer);
    }
    if (this.state !== undefined) {
      const { pid: _pid, natsPid: _natsPid, ...rest } = this.state;
      writeState(this.dirs.state, rest);
    }
  }
}

/**
 * A nats-server left running by an `up` that was killed outright holds the port and the
 * store: stop it, but only if it really is the server of this data folder.
 */
async function stopStaleNats(pid: number, storeDir: string, say: (line: string) => void): Promise<void> {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // gone
  }
  if (!cmdline.includes("nats-server") || !cmdline.includes(storeDir)) return;
  say(`stopping the nats-server (pid ${pid}) left running by an earlier run`);
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Fails with the port and what to do when one of the ports stays taken. Waits a little
 * first: the services of a run that just ended may still be releasing theirs.
 */
async function assertPortsFree(ports: readonly number[], waitMs = 10_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (const port of ports) {
    while (!(await isFree(port))) {
      if (Date.now() > deadline)
        throw new UnavailableError(
          `port ${port} on 127.0.0.1 is in use: stop what uses it, or start with --port-base <another base>`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A loopback port free now (the kernel's choice), for a service started right after. */
function freeLoopbackPort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no loopback port")),
      );
    });
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
