import { readFileSync } from "node:fs";
import {
  credentials,
  Metadata,
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ServiceError,
} from "@grpc/grpc-js";
import {
  JournalQueryClient,
  MarketDataClient,
  OrderEntryClient,
  RiskAdminClient,
  VenueAdminClient,
} from "@tradeplane/contracts";
import { parseManifests, venueFrom, type TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { CliError, EXIT, fromGrpc } from "../errors.ts";
import { dataDir, defaultDataDir } from "../local/paths.ts";
import { readState, type LocalState } from "../local/state.ts";

/** Flags every client command takes. */
export interface TargetFlags {
  readonly dataDir?: string;
  readonly endpoint?: string;
  /** Each partition's engine (VenueAdmin) as `P=host:port`, for a venue whose engines have their own addresses. */
  readonly engine?: readonly string[];
  readonly token?: string;
  /** A file holding the trading token (a mounted Secret): keeps it off the command line. */
  readonly tokenFile?: string;
  readonly adminToken?: string;
  readonly adminTokenFile?: string;
  /** TLS to the endpoint: the CA its certificate chains to; a client certificate and key for mutual TLS. */
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly json?: boolean;
}

/** Longest token file read, in bytes. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/** A flag's value, else its environment variable's, else undefined (empty counts as unset). */
function flagOrEnv(flag: string | undefined, variable: string): string | undefined {
  const value = flag ?? process.env[variable];
  return value === undefined || value === "" ? undefined : value;
}

/** Longest list of engines a command takes (the spec allows partitions 0..63). */
const MAX_ENGINES = 64;

/**
 * `--engine P=host:port` (repeated) or `TP_ENGINES` (`P=host:port,...`): partition -> the
 * VenueAdmin endpoint of its engine; undefined when neither is given.
 */
export function engineEndpoints(flags: readonly string[] | undefined): Map<number, string> | undefined {
  const given =
    flags !== undefined && flags.length > 0 ? flags : process.env.TP_ENGINES?.split(",").filter((e) => e !== "");
  if (given === undefined || given.length === 0) return undefined;
  if (given.length > MAX_ENGINES) throw new CliError(EXIT.USAGE, `--engine: at most ${MAX_ENGINES} engines`);
  const engines = new Map<number, string>();
  for (const item of given) {
    const match = /^(\d{1,2})=([^\s=]{1,253}:\d{1,5})$/.exec(item);
    const shown = item.length > 40 ? `${item.slice(0, 40)}...` : item;
    if (match === null)
      throw new CliError(EXIT.USAGE, `--engine ${shown}: give PARTITION=host:port, e.g. 0=demo-engine-0:7101`);
    const partition = Number(match[1]);
    if (engines.has(partition)) throw new CliError(EXIT.USAGE, `--engine: partition ${partition} given twice`);
    engines.set(partition, match[2]!);
  }
  return engines;
}

/** A file a flag names, or a CliError naming the flag. */
function readFlagFile(flag: string, path: string): Buffer {
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_TOKEN_FILE_BYTES && flag.includes("token"))
      throw new Error(`${bytes.length} bytes, more than a token file holds`);
    return bytes;
  } catch (err) {
    throw new CliError(EXIT.USAGE, `${flag} ${path}: ${(err as Error).message}`);
  }
}

/** The token in a file (trailing whitespace dropped), or a CliError. */
function tokenFromFile(flag: string, path: string): string {
  const token = readFlagFile(flag, path).toString("utf8").trimEnd();
  if (token === "") throw new CliError(EXIT.USAGE, `${flag} ${path} is empty`);
  return token;
}

type Service = "orderEntry" | "riskAdmin" | "marketData" | "venueAdmin" | "journal";

const NAMES: Record<Service, string> = {
  orderEntry: "the risk gateway (OrderEntry)",
  riskAdmin: "the risk gateway (RiskAdmin)",
  marketData: "the market-data service",
  venueAdmin: "the matching engine (VenueAdmin)",
  journal: "the journal (JournalQuery)",
};

/**
 * Where a command sends its calls and with which token: --endpoint/--token, else TP_ENDPOINT
 * /TP_TOKEN, else the local venue's state file in the data folder (written by `up`).
 */
export class Target {
  readonly flags: TargetFlags;
  readonly state: LocalState | undefined;
  /** The local venue's state file (it may not exist). */
  readonly stateFile: string;
  private venueSpec: TradingVenue | undefined | null = null;
  private readonly clients: Client[] = [];

  constructor(flags: TargetFlags) {
    this.flags = flags;
    this.stateFile = dataDir(defaultDataDir(flags.dataDir)).state;
    this.state = readState(this.stateFile);
  }

  /**
   * The partitions whose engines have their own VenueAdmin endpoints (--engine, TP_ENGINES, or
   * the local venue's); undefined when calls go to one --endpoint (or TP_ENDPOINT), which then
   * answers for the partition it serves.
   */
  enginePartitions(): number[] | undefined {
    const engines = engineEndpoints(this.flags.engine);
    if (engines !== undefined) return [...engines.keys()].sort((a, b) => a - b);
    const explicit = this.flags.endpoint ?? process.env.TP_ENDPOINT;
    if ((explicit !== undefined && explicit !== "") || this.state === undefined) return undefined;
    return this.state.endpoints.engines.map((e) => e.partition).sort((a, b) => a - b);
  }

  /** Where calls to `service` go; for venueAdmin, the engine of `partition` (default: the first). */
  endpoint(service: Service, partition?: number): string {
    const engines = service === "venueAdmin" ? engineEndpoints(this.flags.engine) : undefined;
    if (engines !== undefined) {
      const first = Math.min(...engines.keys());
      const engine = engines.get(partition ?? first);
      if (engine === undefined)
        throw new CliError(EXIT.USAGE, `--engine names no engine of partition ${String(partition)}`);
      return engine;
    }
    const explicit = this.flags.endpoint ?? process.env.TP_ENDPOINT;
    if (explicit !== undefined && explicit !== "") return explicit;
    if (this.state === undefined)
      throw new CliError(
        EXIT.UNREACHABLE,
        `no local venue in ${defaultDataDir(this.flags.dataDir)} and no --endpoint: start one with \`npm start\`, or pass --endpoint host:port`,
      );
    const e = this.state.endpoints;
    if (service === "journal") {
      if (e.journal === undefined)
        throw new CliError(
          EXIT.UNREACHABLE,
          "the local venue runs no journal: set spec.journal.enabled: true in its manifest and restart it, or pass --endpoint",
        );
      return e.journal;
    }
    if (service !== "venueAdmin") return e[service];
    const engine = partition === undefined ? e.engines[0] : e.engines.find((x) => x.partition === partition);
    if (engine === undefined) throw new CliError(EXIT.USAGE, `the local venue has no partition ${String(partition)}`);
    return engine.grpc;
  }

  /** The bearer token for order entry as `account`. */
  tradingToken(account: string | undefined): string {
    const token = flagOrEnv(this.flags.token, "TP_TOKEN");
    if (token !== undefined) return token;
    const file = flagOrEnv(this.flags.tokenFile, "TP_TOKEN_FILE");
    if (file !== undefined) return tokenFromFile("--token-file", file);
    const local = this.state?.accounts.find((a) => a.name === account) ?? this.state?.accounts[0];
    if (local === undefined)
      throw new CliError(
        EXIT.AUTH,
        "no token: pass --token-file (or --token), or set TP_TOKEN_FILE or TP_TOKEN (local mode prints the demo tokens)",
      );
    return local.token;
  }

  /**
   * The token for reads an account may make of its own records (the journal's trades, audit
   * trails, ratios and obligations): a trading token given on the command line (--token-file,
   * --token) reads only its account; otherwise the admin token as for every admin call; with
   * no admin token anywhere, the trading token of TP_TOKEN_FILE/TP_TOKEN.
   */
  accountReaderToken(): string {
    if (this.flags.token !== undefined || this.flags.tokenFile !== undefined) return this.tradingToken(undefined);
    const anyAdmin =
      this.flags.adminToken !== undefined ||
      this.flags.adminTokenFile !== undefined ||
      flagOrEnv(undefined, "TP_ADMIN_TOKEN") !== undefined ||
      flagOrEnv(undefined, "TP_ADMIN_TOKEN_FILE") !== undefined ||
      (this.state?.adminToken ?? "") !== "";
    const envTrading =
      flagOrEnv(undefined, "TP_TOKEN") !== undefined || flagOrEnv(undefined, "TP_TOKEN_FILE") !== undefined;
    return !anyAdmin && envTrading ? this.tradingToken(undefined) : this.adminToken();
  }

  adminToken(): string {
    const token = flagOrEnv(this.flags.adminToken, "TP_ADMIN_TOKEN");
    if (token !== undefined) return token;
    const file = flagOrEnv(this.flags.adminTokenFile, "TP_ADMIN_TOKEN_FILE");
    if (file !== undefined) return tokenFromFile("--admin-token-file", file);
    if (this.state?.adminToken !== undefined && this.state.adminToken !== "") return this.state.adminToken;
    throw new CliError(
      EXIT.AUTH,
      "no admin token: pass --admin-token-file (or --admin-token), or set TP_ADMIN_TOKEN_FILE or TP_ADMIN_TOKEN",
    );
  }

  /** Channel credentials: TLS when --tls-ca (or a client certificate) is given, else plaintext. */
  private channelCredentials(): ChannelCredentials {
    const ca = flagOrEnv(this.flags.tlsCa, "TP_TLS_CA");
    const cert = flagOrEnv(this.flags.tlsCert, "TP_TLS_CERT");
    const key = flagOrEnv(this.flags.tlsKey, "TP_TLS_KEY");
    if ((cert === undefined) !== (key === undefined))
      throw new CliError(EXIT.USAGE, "--tls-cert and --tls-key go together (a client certificate and its key)");
    if (ca === undefined && cert === undefined) return credentials.createInsecure();
    return credentials.createSsl(
      ca === undefined ? null : readFlagFile("--tls-ca", ca),
      key === undefined ? null : readFlagFile("--tls-key", key),
      cert === undefined ? null : readFlagFile("--tls-cert", cert),
    );
  }

  /** The venue's manifest when it runs locally (prices are shown in its currency). */
  venue(): TradingVenue | undefined {
    if (this.venueSpec !== null) return this.venueSpec;
    this.venueSpec = undefined;
    if (this.state !== undefined) {
      try {
        const text = readFileSync(this.state.manifest, "utf8");
        this.venueSpec = venueFrom(parseManifests(text, this.state.manifest), this.state.manifest);
      } catch {
        // the manifest moved: prices are shown as integers
      }
    }
    return this.venueSpec;
  }

  /** The price unit of an instrument ("0.01"), or undefined when unknown here. */
  priceUnit(symbol: string): string | undefined {
    return this.venue()?.spec.instruments.find((i) => i.symbol === symbol)?.priceUnit;
  }

  orderEntry(): OrderEntryClient {
    return this.make(OrderEntryClient, "orderEntry");
  }
  riskAdmin(): RiskAdminClient {
    return this.make(RiskAdminClient, "riskAdmin");
  }
  marketData(): MarketDataClient {
    return this.make(MarketDataClient, "marketData");
  }
  journal(): JournalQueryClient {
    return this.make(JournalQueryClient, "journal");
  }
  /** The VenueAdmin of the engine of `partition` (locally, each partition's engine has its own). */
  venueAdmin(partition?: number): VenueAdminClient {
    return this.make(VenueAdminClient, "venueAdmin", partition);
  }

  private make<C extends Client>(
    ctor: new (address: string, creds: ChannelCredentials) => C,
    service: Service,
    partition?: number,
  ): C {
    const client = new ctor(this.endpoint(service, partition), this.channelCredentials());
    this.clients.push(client);
    return client;
  }

  /**
   * One unary call with a deadline and a bearer token; gRPC failures become CliErrors that
   * say what to do.
   */
  call<Req, Res>(
    service: Service,
    token: string | undefined,
    method: (
      request: Req,
      metadata: Metadata,
      options: Partial<CallOptions>,
      cb: (err: ServiceError | null, res: Res) => void,
    ) => unknown,
    request: Req,
    { timeoutMs = 10_000, partition }: { timeoutMs?: number; partition?: number } = {},
  ): Promise<Res> {
    const metadata = new Metadata();
    if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
    const endpoint = this.endpoint(service, partition);
    return new Promise<Res>((resolve, reject) => {
      method(request, metadata, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) =>
        err ? reject(fromGrpc(err, NAMES[service], endpoint)) : resolve(res),
      );
    });
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
