import { readFileSync } from "node:fs";
import { parseManifests, partitionCount, venuesOf, type Manifest } from "@tradeplane/operator/api/v1alpha1";
import { ConfigError } from "@tradeplane/platform";
import { strategyProblemsOf } from "@tradeplane/strategies";
import { CliError, EXIT } from "../errors.ts";
import { printResult } from "../output.ts";

/** Reads and validates a manifest file; errors name the document and the field. */
export function loadManifests(file: string): Manifest[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new CliError(
      EXIT.USAGE,
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const manifests = parseManifests(text, file);
  const problems = manifests.flatMap((m) => strategyProblems(m, file));
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${p.path}: ${p.message}`).join("\n"), problems);
  return manifests;
}

/** A StrategyDeployment's built-in strategy with unknown or invalid parameters, each field named. */
export function strategyProblems(m: Manifest, file: string): { path: string; message: string }[] {
  if (m.kind !== "StrategyDeployment" || m.spec.strategy.builtin === undefined) return [];
  const problems = strategyProblemsOf(
    m.spec.strategy.builtin,
    m.spec.strategy.parameters ?? {},
    m.spec.instruments,
    (m.spec.venues?.length ?? 0) > 0,
  );
  return problems.map((p) => ({
    path: `${file}: StrategyDeployment ${m.metadata.name}: spec.strategy.${p.field}`,
    message: p.message,
  }));
}

export function validate(file: string, json: boolean): void {
  const manifests = loadManifests(file);
  const lines = manifests.map((m) =>
    m.kind === "TradingVenue"
      ? `TradingVenue ${m.metadata.name}: ${m.spec.instruments.length} instruments on ${partitionCount(m.spec)} partition(s)`
      : `StrategyDeployment ${m.metadata.name}: ${venuesOf(m.spec)
          .map((v) => `${v.account} on venue ${v.venue}`)
          .join(", ")}`,
  );
  printResult(json, { valid: true, resources: manifests }, `${file} is valid\n  ${lines.join("\n  ")}`);
}
