// Fails fast when npm scripts do not run on the pinned Node 24 from node_modules/.bin.
const major = Number(process.versions.node.split(".")[0]);
if (major !== 24) {
  console.error(
    `tradeplane: npm scripts must run on Node 24 (found ${process.version} at ${process.execPath}).\n` +
      "Run `npm ci` so that node_modules/.bin/node (the pinned 'node' devDependency) is installed.",
  );
  process.exit(1);
}
