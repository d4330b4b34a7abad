#!/usr/bin/env node
// The tradeplane command. The CLI is TypeScript run directly by Node's type stripping, so
// it needs Node >= 22.18; when started by an older node (a system Node 20, say), it runs
// itself again with the project's pinned Node from node_modules/.bin.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [major, minor] = process.versions.node.split(".").map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  const { runAsProgram } = await import(join(here, "../src/main.ts"));
  await runAsProgram(process.argv.slice(2));
} else {
  let dir = here;
  let pinned;
  while (dir !== dirname(dir)) {
    const candidate = join(dir, "node_modules/node/bin/node");
    if (existsSync(candidate)) {
      pinned = candidate;
      break;
    }
    dir = dirname(dir);
  }
  if (pinned === undefined) {
    console.error(`tradeplane: needs Node >= 22.18 (this is ${process.version}); run \`npm ci\` in the project first`);
    process.exit(2);
  }
  // The child gets Ctrl-C from the terminal itself and stops cleanly; this process waits for it.
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => undefined);
  const result = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}
