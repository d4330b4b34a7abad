import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { findBinary, REPO_ROOT } from "@tradeplane/testkit";

const run = promisify(execFile);
const RULES_DIR = join(REPO_ROOT, "charts", "tradeplane", "files", "prometheus-rules");
const RULES = join(RULES_DIR, "tradeplane-alerts.yaml");

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (parse(readFileSync(RULES, "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe("alert rules", () => {
  it("pass promtool check rules", async () => {
    const { stdout } = await run(findBinary("promtool"), ["check", "rules", RULES]);
    expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it("pass their promtool unit tests (one firing and one quiet case per alert)", async () => {
    const { stdout, stderr } = await run(findBinary("promtool"), ["test", "rules", "tradeplane-alerts.test.yaml"], {
      cwd: join(RULES_DIR, "tests"),
    });
    expect(`${stdout}${stderr}`).toContain("SUCCESS");
  });

  it("have a unit test for every alert", () => {
    const tests = readFileSync(join(RULES_DIR, "tests", "tradeplane-alerts.test.yaml"), "utf8");
    for (const { alert } of rules) expect(tests, alert).toContain(`alertname: ${alert}`);
  });

  it.each(rules.map((r) => [r.alert, r] as const))(
    "%s has a severity, a summary and a runbook that exists",
    (name, rule) => {
      expect(["critical", "warning"]).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.runbook, name).toMatch(/^docs\/runbooks\/tradeplane-[a-z-]+\.md$/);
      expect(existsSync(join(REPO_ROOT, rule.annotations!.runbook!))).toBe(true);
    },
  );
});
