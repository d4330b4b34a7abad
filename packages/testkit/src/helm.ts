import { execFile } from "node:child_process";
import { findBinary } from "./binaries.ts";

export class HelmError extends Error {
  override readonly name = "HelmError";
  /** What helm printed on stderr (its reason). */
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super(message);
    this.stderr = stderr;
  }
}

export interface HelmOptions {
  /** KUBECONFIG of the cluster to talk to; none for commands that need no cluster (lint, template). */
  readonly kubeconfig?: string;
  readonly timeoutMs?: number;
}

/**
 * Runs the real `helm` from the tools folder (scripts/setup extracts it) and resolves with its
 * stdout; rejects with a HelmError carrying its stderr. Helm's caches and config go to the
 * environment's defaults unless HELM_* variables say otherwise.
 */
export function helm(args: readonly string[], options: HelmOptions = {}): Promise<string> {
  const binary = findBinary("helm");
  const env = { ...process.env, ...(options.kubeconfig !== undefined ? { KUBECONFIG: options.kubeconfig } : {}) };
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err === null) resolve(stdout);
        else reject(new HelmError(`helm ${args.join(" ")} failed: ${stderr.trim() || err.message}`, stderr));
      },
    );
  });
}
