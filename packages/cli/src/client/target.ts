import { readFileSync } from "node:fs";
import { credentials, Metadata, type CallOptions, type Client, type ServiceError } from "@grpc/grpc-js";
import { MarketDataClient, OrderEntryClient, RiskAdminClient, VenueAdminClient } from "@tradeplane/contracts";
import { parseManifests, venueFrom, type TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { CliError, EXIT, fromGrpc } from "../errors.ts";
import { dataDir, defaultDataDir } from "../local/paths.ts";
import { readState, type LocalState } from "../local/state.ts";

/** Flags every client command takes. */
export interface TargetFlags {
  readonly dataDir?: string;
  readonly endpoint?: string;
  readonly token?: string;
  readonly adminToken?: string;
  readonly json?: boolean;
}

type Service = "orderEntry" | "riskAdmin" | "marketData" | "venueAdmin";

const NAMES: Record<Service, string> = {
  orderEntry: "the risk gateway (OrderEntry)",
  riskAdmin: "the risk gateway (RiskAdmin)",
  marketData: "the market-data service",
  venueAdmin: "the matching engine (VenueAdmin)",
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
   * The partitions of the local venue's engines, each with its own VenueAdmin endpoint; undefined
   * when calls go to one --endpoint (or TP_ENDPOINT), which then answers for every partition it serves.
   */
  enginePartitions(): number[] | undefined {
    const explicit = this.flags.endpoint ?? process.env.TP_ENDPOINT;
    if ((explicit !== undefined && explicit !== "") || this.state === undefined) return undefined;
    return this.state.endpoints.engines.map((e) => e.partition).sort((a, b) => a - b);
  }

  /** Where calls to `service` go; for venueAdmin, the engine of `partition` (default: the first). */
  endpoint(service: Service, partition?: number): string {
    const explicit = this.flags.endpoint ?? process.env.TP_ENDPOINT;
    if (explicit !== undefined && explicit !== "") return explicit;
    if (this.state === undefined)
      throw new CliError(
        EXIT.UNREACHABLE,
        `no local venue in ${defaultDataDir(this.flags.dataDir)} and no --endpoint: start one with \`npm start\`, or pass --endpoint host:port`,
      );
    const e = this.state.endpoints;
    if (service !== "venueAdmin") return e[service];
    const engine = partition === undefined ? e.engines[0] : e.engines.find((x) => x.partition === partition);
    if (engine === undefined) throw new CliError(EXIT.USAGE, `the local venue has no partition ${String(partition)}`);
    return engine.grpc;
  }

  /** The bearer token for order entry as `account`. */
  tradingToken(account: string | undefined): string {
    const token = this.flags.token ?? process.env.TP_TOKEN;
    if (token !== undefined && token !== "") return token;
    const local = this.state?.accounts.find((a) => a.name === account) ?? this.state?.accounts[0];
    if (local === undefined)
      throw new CliError(EXIT.AUTH, "no token: pass --token or set TP_TOKEN (local mode prints the demo tokens)");
    return local.token;
  }

  adminToken(): string {
    const token = this.flags.adminToken ?? process.env.TP_ADMIN_TOKEN ?? this.state?.adminToken;
    if (token === undefined || token === "")
      throw new CliError(EXIT.AUTH, "no admin token: pass --admin-token or set TP_ADMIN_TOKEN");
    return token;
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
  /** The VenueAdmin of the engine of `partition` (locally, each partition's engine has its own). */
  venueAdmin(partition?: number): VenueAdminClient {
    return this.make(VenueAdminClient, "venueAdmin", partition);
  }

  private make<C extends Client>(
    ctor: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => C,
    service: Service,
    partition?: number,
  ): C {
    const client = new ctor(this.endpoint(service, partition), credentials.createInsecure());
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
