#!/usr/bin/env node
// Removes from node_modules every package that one workspace does not need at run time.
//
//   node scripts/prune-workspace-deps.mjs @tradeplane/strategy-runtime     (in the folder of package-lock.json)
//
// Why: `npm ci --omit=dev -w <workspace>` follows the workspace's dev dependencies too when
// they are other workspaces, and installs those workspaces' production dependencies: npm
// marks a package "dev" only when nothing in production reaches it, and the root reaches
// every workspace. So a runtime whose tests use the operator carried the operator's
// Kubernetes client. This walks the lockfile from the workspace's own
// dependencies (and optional and peer ones that are installed), resolving each name the way
// Node does (nested node_modules first, then each parent's), follows workspace links to
// their folders, and deletes every installed package that the walk did not reach, the
// links to other workspaces included. Reads only package-lock.json, so it needs no network.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";

const workspace = process.argv[2];
if (!workspace) {
  console.error("usage: prune-workspace-deps.mjs <workspace package name>");
  process.exit(2);
}
const packages = JSON.parse(readFileSync("package-lock.json", "utf8")).packages;
const start = Object.keys(packages).find((path) => !path.includes("node_modules") && packages[path].name === workspace);
if (start === undefined) {
  console.error(`prune-workspace-deps: no workspace named ${workspace} in package-lock.json`);
  process.exit(1);
}

/** The lockfile path a `require(name)` from the package at `from` finds, if any. */
function resolve(from, name) {
  for (let at = from; ;) {
    const candidate = `${at === "" ? "" : `${at}/`}node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (at === "") return undefined;
    const parent = at.lastIndexOf("/node_modules/");
    at = parent >= 0 ? at.slice(0, parent) : "";
  }
}

const kept = new Set();
const queue = [start];
while (queue.length > 0) {
  const path = queue.pop();
  if (kept.has(path)) continue;
  kept.add(path);
  const entry = packages[path];
  if (entry.link === true) {
    queue.push(entry.resolved);
    continue;
  }
  const names = [entry.dependencies, entry.optionalDependencies, entry.peerDependencies].flatMap((deps) =>
    Object.keys(deps ?? {}),
  );
  for (const name of names) {
    const found = resolve(path, name);
    if (found !== undefined) queue.push(found);
    else if (entry.dependencies?.[name] !== undefined)
      throw new Error(`${path || "the root"} depends on ${name}, which the lockfile does not hold`);
  }
}

let removed = 0;
// Shortest paths first: a folder removed takes its nested node_modules with it.
for (const path of Object.keys(packages).sort((a, b) => a.length - b.length)) {
  if (!path.includes("node_modules/") || kept.has(path) || !existsSync(path)) continue;
  rmSync(path, { recursive: true, force: true });
  removed += 1;
}
// Scope folders (@kubernetes) left empty.
for (const scope of readdirSync("node_modules").filter((d) => d.startsWith("@")))
  if (readdirSync(`node_modules/${scope}`).length === 0) rmdirSync(`node_modules/${scope}`);
console.log(`prune-workspace-deps: ${workspace} keeps ${kept.size} lockfile entries, ${removed} packages removed`);
