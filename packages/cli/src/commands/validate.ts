import { readFileSync } from "node:fs";
import { parseManifests, partitionCount, type Manifest } from "@tradeplane/operator/api/v1alpha1";
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
  return parseManifests(text, file);
}

export function validate(file: string, json: boolean): void {
  const manifests = loadManifests(file);
  const lines = manifests.map((m) =>
    m.kind === "TradingVenue"
      ? `TradingVenue ${m.metadata.name}: ${m.spec.instruments.length} instruments on ${partitionCount(m.spec)} partition(s)`
      : `StrategyDeployment ${m.metadata.name}: ${m.spec.account} on venue ${m.spec.venueRef.name}`,
  );
  printResult(json, { valid: true, resources: manifests }, `${file} is valid\n  ${lines.join("\n  ")}`);
}
