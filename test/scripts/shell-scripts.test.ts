import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findBinary, REPO_ROOT } from "@tradeplane/testkit";

/**
 * The project's shell scripts parse (`bash -n`) and are clean under the real shellcheck:
 * every `*.sh` under scripts/ (the fragments scripts/setup sources included, which say their
 * shell with a `# shellcheck shell=bash` directive) and every file there with a bash shebang.
 * For scripts/e2e-kind.sh these are the only checks our machines can make: it needs Docker
 * and kind (docs/helm.md says what it proves and where).
 */

const SCRIPTS_DIR = join(REPO_ROOT, "scripts");

/** Paths under scripts/ of the shell scripts: `*.sh`, or a bash shebang. */
const scripts = readdirSync(SCRIPTS_DIR, { recursive: true, encoding: "utf8" })
  .filter((path) => statSync(join(SCRIPTS_DIR, path)).isFile())
  .filter(
    (path) =>
      path.endsWith(".sh") || /^#!.*\bbash\b/.test(readFileSync(join(SCRIPTS_DIR, path), "utf8").split("\n", 1)[0]!),
  )
  .sort();

function run(binary: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 99, output: stdout + stderr }),
    );
  });
}

describe("the project's shell scripts", () => {
  it("include scripts/e2e-kind.sh, scripts/images, scripts/setup and the fragments it sources", () => {
    expect(scripts).toEqual(
      expect.arrayContaining(["e2e-kind.sh", "images", "setup", "setup.d/30-kube.sh", "setup.d/60-shellcheck.sh"]),
    );
  });

  it.each(scripts)("scripts/%s parses with bash -n and is clean under shellcheck", async (name) => {
    const file = join("scripts", name);
    const parsed = await run(findBinary("bash"), ["-n", file]);
    expect(parsed.output).toBe("");
    expect(parsed.code).toBe(0);
    const linted = await run(findBinary("shellcheck", "SHELLCHECK_BIN", "Install shellcheck: npm run setup."), [file]);
    expect(linted.output).toBe("");
    expect(linted.code).toBe(0);
  });
});
