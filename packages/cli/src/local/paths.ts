import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root folder (where package.json, scripts/ and services/ are). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL("../../../..", import.meta.url)));

/** Entry point of a service's process. */
export function serviceMain(
  service: "matching" | "risk" | "market-data" | "strategy-runtime" | "fix-gateway" | "journal",
): string {
  return join(PROJECT_ROOT, "services", service, "src", "main.ts");
}

/** Where local mode keeps everything of one venue: the log, configs, logs and credentials. */
export interface DataDir {
  readonly root: string;
  readonly nats: string;
  readonly logs: string;
  readonly configs: string;
  /** Secrets the services read (mode 0700, files 0600): never in their config files. */
  readonly secrets: string;
  /** Endpoints and tokens of the running venue (mode 0600). */
  readonly state: string;
  /** The journal's embedded PGlite database (when the spec enables the journal). */
  readonly journal: string;
  /** Best-execution reports of the strategies across venues (JSON, one per deployment). */
  readonly reports: string;
}

export function dataDir(root: string): DataDir {
  const abs = resolve(root);
  return {
    root: abs,
    nats: join(abs, "jetstream"),
    logs: join(abs, "logs"),
    configs: join(abs, "config"),
    secrets: join(abs, "secrets"),
    state: join(abs, "local.json"),
    journal: join(abs, "journal"),
    reports: join(abs, "reports"),
  };
}

/** The data folder: --data-dir, else TP_DATA_DIR, else .tradeplane in the current folder. */
export function defaultDataDir(flag: string | undefined): string {
  return flag ?? process.env.TP_DATA_DIR ?? ".tradeplane";
}
