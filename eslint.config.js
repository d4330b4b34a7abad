// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

/** Node built-ins that do I/O or read the clock: forbidden in pure domain code. */
const IO_MODULES = [
  "fs",
  "net",
  "http",
  "http2",
  "https",
  "child_process",
  "dgram",
  "dns",
  "tls",
  "worker_threads",
  "cluster",
  "os",
  "process",
  "timers",
].flatMap((m) => [m, `node:${m}`, `${m}/*`, `node:${m}/*`]);

/** Packages that are domain code themselves: domain code may import them. */
const PURE_PACKAGES = ["contracts", "matching-core", "positions", "risk-checks"];

const SERVICES = ["matching", "risk", "market-data", "fix-gateway", "journal", "strategy-runtime"];

/** One service may never import another: they share code only through packages/. */
const noCrossService = {
  group: ["**/services/**", ...SERVICES.map((s) => `@tradeplane/${s}`), ...SERVICES.map((s) => `@tradeplane/${s}/*`)],
  message: "Services share code only through packages/ (see ARCHITECTURE.md).",
};

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "tools/**", "packages/contracts/src/gen/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
    },
  },
  // Dependency direction: contracts <- platform <- services/*, operator. testkit only in tests.
  // Packages never import a service (the CLI joins once the accounts record format is a package).
  {
    files: ["packages/*/src/**"],
    ignores: ["packages/cli/src/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [noCrossService] }] },
  },
  {
    files: ["packages/contracts/src/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@tradeplane/*", "!@tradeplane/contracts"], message: "contracts depends on nothing of ours." },
          ],
        },
      ],
    },
  },
  {
    files: ["packages/platform/src/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@tradeplane/*", "!@tradeplane/contracts", "!@tradeplane/platform"],
              message: "platform depends only on contracts.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["packages/accounts/src/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@tradeplane/*", "!@tradeplane/contracts", "!@tradeplane/platform"],
              message: "accounts depends only on contracts and platform: the CLI and the operator use it.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["services/*/src/**", "operator/src/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            noCrossService,
            { group: ["@tradeplane/testkit", "@tradeplane/testkit/*"], message: "testkit is for tests only." },
          ],
        },
      ],
    },
  },
  {
    // The pure packages (the matching core, position arithmetic) are domain code too, and so
    // is the workload generator: its output must be a function of its options alone.
    files: [
      "services/*/src/domain/**",
      "packages/matching-core/src/**",
      "packages/positions/src/**",
      "packages/risk-checks/src/**",
      "packages/backtest/src/workload-*.ts",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: IO_MODULES.map((name) => ({ name, message: "Domain code is pure: no I/O, no clock, no env." })),
          patterns: [
            noCrossService,
            {
              group: ["@tradeplane/*", ...PURE_PACKAGES.flatMap((p) => [`!@tradeplane/${p}`, `!@tradeplane/${p}/*`])],
              message: "Domain code imports only contracts, the pure packages and itself.",
            },
            { group: ["**/adapters/**", "**/main.ts"], message: "Domain code never imports adapters." },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "Date", message: "Domain code takes time from commands, never the clock." },
        { name: "setTimeout", message: "Domain code has no timers." },
        { name: "setInterval", message: "Domain code has no timers." },
        { name: "process", message: "Domain code reads no environment." },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "Domain code is deterministic." },
        { object: "performance", property: "now", message: "Domain code reads no clock." },
      ],
    },
  },
);
