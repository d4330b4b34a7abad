import { defineConfig } from "vitest/config";

/**
 * Two groups, run one after the other: fast tests in parallel, then the tests that start
 * real nats-server clusters and engine processes one file at a time. Two cores are all
 * CI has; running the heavy files side by side only makes both time out.
 */
const HEAVY = [
  "services/*/test/service/**/*.test.ts",
  "packages/testkit/test/nats-cluster.test.ts",
  "packages/cli/test/e2e/**/*.test.ts",
  "**/test/integration/**/*.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    onConsoleLog: () => false,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "operator/test/**/*.test.ts", "charts/test/**/*.test.ts"],
          exclude: HEAVY,
          pool: "forks",
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: HEAVY,
          pool: "forks",
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
