import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { UnavailableError } from "@tradeplane/platform";

/**
 * What a running local venue tells the other CLI commands: where each endpoint listens and
 * the tokens to use. Kept in <data dir>/local.json with mode 0600, and reused by the next
 * `up` so that tokens stay valid across restarts.
 */
export const localStateSchema = z.object({
  venue: z.string(),
  manifest: z.string(),
  portBase: z.number().int(),
  natsUrl: z.string(),
  natsToken: z.string(),
  adminToken: z.string(),
  endpoints: z.object({
    orderEntry: z.string(),
    riskAdmin: z.string(),
    marketData: z.string(),
    marketDataWs: z.string(),
    engines: z.array(z.object({ partition: z.number(), grpc: z.string(), ops: z.string() })),
    riskOps: z.string(),
    marketDataOps: z.string(),
    /** The FIX gateway, when the venue spec enables it: host:port and its ops endpoint. */
    fix: z.string().optional(),
    fixOps: z.string().optional(),
    /** The journal (JournalQuery gRPC) and its ops endpoint, when the venue spec enables it. */
    journal: z.string().optional(),
    journalOps: z.string().optional(),
    /** The ops endpoint (/metrics) of each strategy runtime this venue runs, by StrategyDeployment name. */
    strategies: z.array(z.object({ name: z.string(), ops: z.string() })).optional(),
  }),
  /** Demo accounts and their bearer tokens. */
  accounts: z.array(z.object({ name: z.string(), token: z.string() })),
  /** Pid of the `up` process while it runs. */
  pid: z.number().int().optional(),
  /** Pid of its nats-server while it runs (a SIGKILLed `up` leaves it behind). */
  natsPid: z.number().int().optional(),
});

export type LocalState = z.infer<typeof localStateSchema>;

export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** The state file, or undefined when there is none (no venue was ever started here). */
export function readState(file: string): LocalState | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const parsed = localStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new UnavailableError(`${file} is damaged; delete it and run \`tradeplane up\` again`);
  return parsed.data;
}

export function writeState(file: string, state: LocalState): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
