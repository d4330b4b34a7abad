import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { adminTokensSchema, ConfigError, loadConfig, natsConfigSchema, secret } from "../src/index.ts";

const schema = z.object({
  ...natsConfigSchema,
  adminTokens: adminTokensSchema,
  apiKey: secret(8).optional(),
});

const dir = mkdtempSync(join(tmpdir(), "tp-secrets-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}
function configFile(settings: object): string {
  return file(`config-${Math.random().toString(36).slice(2)}.json`, JSON.stringify(settings));
}

describe("secret settings", () => {
  it.each([
    ["an environment variable", { TP_NATS_TOKEN: "from-env" }],
    ["a file named by a variable", { TP_NATS_TOKEN_FILE: file("nats-token", "from-env\n") }],
    ["a file named in the config file", { TP_CONFIG_FILE: configFile({ natsTokenFile: file("nt2", "from-env\n\n") }) }],
  ])("reads a secret from %s", (_where, env) => {
    expect(loadConfig(schema, { env }).natsToken).toBe("from-env");
  });

  it("reads a member of a group from a file, one token per line for rotation", () => {
    const tokens = file("venue-operator", "old-operator-token-0123456789\nnew-operator-token-0123456789\n");
    const config = loadConfig(schema, {
      env: {
        TP_CONFIG_FILE: configFile({ adminTokens: { venueOperatorFile: tokens } }),
        TP_ADMIN_TOKENS_READ_ONLY: "read-only-token-0123456789",
      },
    });
    expect(config.adminTokens).toEqual({
      venueOperator: ["old-operator-token-0123456789", "new-operator-token-0123456789"],
      readOnly: ["read-only-token-0123456789"],
    });
  });

  it("lets a variable name a file that overrides the config file's path", () => {
    const config = loadConfig(schema, {
      env: {
        TP_CONFIG_FILE: configFile({ apiKey: undefined, apiKeyFile: file("k1", "from-config-path") }),
        TP_API_KEY_FILE: file("k2", "from-variable-path"),
      },
    });
    expect(config.apiKey).toBe("from-variable-path");
  });

  it.each([
    ["a secret written into the config file", { natsToken: "in-the-configmap" }, {}, /natsToken is a secret/],
    [
      "a group member written into the config file",
      { adminTokens: { riskOfficer: "risk-officer-token-0123456789" } },
      {},
      /adminTokens.riskOfficer is a secret.*TP_ADMIN_TOKENS_RISK_OFFICER/,
    ],
    ["a missing file", { natsTokenFile: "/nonexistent/token" }, {}, /natsTokenFile=\/nonexistent\/token/],
    ["an empty file", { natsTokenFile: file("empty", "\n") }, {}, /is empty/],
    ["a value and a file at once", {}, { TP_NATS_TOKEN: "a", TP_NATS_TOKEN_FILE: file("b", "b") }, /not both/],
    [
      "an admin token shorter than 16 characters",
      {},
      { TP_ADMIN_TOKENS_VENUE_OPERATOR: "short" },
      /TP_ADMIN_TOKENS_VENUE_OPERATOR.*at least 16/,
    ],
    ["a secret shorter than its minimum", {}, { TP_API_KEY: "1234" }, /TP_API_KEY.*at least 8/],
  ])("refuses %s with a ConfigError naming the setting", (_what, settings, env, message) => {
    const load = () => loadConfig(schema, { env: { TP_CONFIG_FILE: configFile(settings), ...env } });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });

  it("says which file it refused, never what the file holds", () => {
    const big = file("big", "secret-that-must-not-show".repeat(5_000));
    const load = () => loadConfig(schema, { env: { TP_NATS_TOKEN_FILE: big } });
    expect(load).toThrow(/TP_NATS_TOKEN_FILE=.*more than a secret file holds/);
    expect(load).not.toThrow(/secret-that-must-not-show/);
  });

  it("leaves secrets absent when nothing gives them", () => {
    const config = loadConfig(schema, { env: {} });
    expect(config.natsToken).toBeUndefined();
    expect(config.adminTokens).toBeUndefined();
  });
});
