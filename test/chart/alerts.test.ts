import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { findBinary, REPO_ROOT } from "@tradeplane/testkit";
import { CHART_DIR } from "../support/chart.ts";

/**
 * The chart's alerting rules, proven with the real promtool: valid, and each alert tested
 * (test/alerts/*.test.yaml) in a case where it fires and one where it does not, with a
 * runbook in docs/runbooks.
 */

const RULES_DIR = join(CHART_DIR, "files", "prometheus-rules");
const TESTS_DIR = join(REPO_ROOT, "test", "alerts");
const RUNBOOKS = "https://github.com/tradeplane/tradeplane/blob/main/";

type Rule = { alert?: string; annotations?: Record<string, string> };
const alerts: Rule[] = readdirSync(RULES_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) => (parseYaml(readFileSync(join(RULES_DIR, f), "utf8")) as { groups: { rules: Rule[] }[] }).groups)
  .flatMap((g) => g.rules)
  .filter((r) => r.alert !== undefined);

type AlertTest = { alertname: string; exp_alerts: object[] };
const alertTests: AlertTest[] = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith(".test.yaml"))
  .flatMap(
    (f) =>
      (parseYaml(readFileSync(join(TESTS_DIR, f), "utf8")) as { tests: { alert_rule_test?: AlertTest[] }[] }).tests,
  )
  .flatMap((t) => t.alert_rule_test ?? []);

function promtool(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(findBinary("promtool"), args, { cwd }, (err, stdout, stderr) =>
      err === null ? resolve(stdout + stderr) : reject(new Error(`promtool ${args.join(" ")}:\n${stdout}${stderr}`)),
    ),
  );
}

describe("the alerting rules", () => {
  it("pass promtool check rules", async () => {
    const files = readdirSync(RULES_DIR).filter((f) => f.endsWith(".yaml"));
    expect(await promtool(["check", "rules", ...files], RULES_DIR)).toContain("SUCCESS");
  });

  it("pass their promtool unit tests", async () => {
    const files = readdirSync(TESTS_DIR).filter((f) => f.endsWith(".test.yaml"));
    const out = await promtool(["test", "rules", ...files], TESTS_DIR);
    expect(out).not.toContain("FAILED");
  });

  it.each(alerts.map((a) => [a.alert!, a] as const))(
    "%s is tested firing and not firing, and links a runbook that exists",
    (name, alert) => {
      const cases = alertTests.filter((t) => t.alertname === name);
      expect(
        cases.some((t) => t.exp_alerts.length > 0),
        `${name} fires in a test`,
      ).toBe(true);
      expect(
        cases.some((t) => t.exp_alerts.length === 0),
        `${name} stays quiet in a test`,
      ).toBe(true);
      const url = alert.annotations?.runbook_url ?? "";
      expect(url.startsWith(RUNBOOKS), url).toBe(true);
      expect(existsSync(join(REPO_ROOT, url.slice(RUNBOOKS.length))), url).toBe(true);
    },
  );
});
