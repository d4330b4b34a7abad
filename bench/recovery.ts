// Recovery time of a partition whose log holds N commands: with no snapshot (full replay)
// and with a snapshot taken at 90% of the log (load it, replay the last 10%).
//   npm run -s bench:recovery -- [--commands 1000000] [--per-entry 50]
// Last line: {"commands":N,"withoutSnapshotSeconds":A,"withSnapshotSeconds":B,"snapshotAtSeq":S,"snapshotBytes":Z,"maxRssMB":M}
import { COMMANDS_PER_ENTRY, eventSubject } from "@tradeplane/contracts";
import { benchRunner, caughtUp } from "./support/engine.ts";
import { benchVenue, DEFAULT_PER_ENTRY, fillCommandLog, numericFlags } from "./support/venue.ts";

const flags = numericFlags({ commands: 1_000_000, perEntry: DEFAULT_PER_ENTRY });
const v = await benchVenue("recovery");
const snapshotAt = Math.floor(flags.commands * 0.9);
await fillCommandLog(v, snapshotAt, { perEntry: flags.perEntry });

// Build the snapshot at 90% with a runner that stops there.
const first = await benchRunner(v);
await first.runner.start();
await caughtUp(first.runner);
await first.runner.snapshotNow();
const snapshotBytes = (await first.snapshots.list())[0]?.size ?? 0;
await first.runner.stop();
const last = await fillCommandLog(v, flags.commands - snapshotAt, { perEntry: flags.perEntry, from: snapshotAt });
// Mark every event as published, so recovery applies commands only.
await v.js.publish(eventSubject(v.venue, 0, "INFY"), new Uint8Array(), { msgID: `${last + COMMANDS_PER_ENTRY}-0` });

async function recover(useSnapshot: boolean): Promise<number> {
  const { runner } = await benchRunner(v, { ignoreSnapshots: !useSnapshot });
  const t0 = performance.now();
  await runner.start();
  await caughtUp(runner);
  const seconds = (performance.now() - t0) / 1000;
  await runner.stop();
  return seconds;
}

const withoutSnapshotSeconds = await recover(false);
const withSnapshotSeconds = await recover(true);
await v.close();
console.log(
  JSON.stringify({
    commands: flags.commands,
    perEntry: flags.perEntry,
    withoutSnapshotSeconds: Number(withoutSnapshotSeconds.toFixed(3)),
    withSnapshotSeconds: Number(withSnapshotSeconds.toFixed(3)),
    snapshotAtSeq: snapshotAt,
    snapshotBytes,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
process.exit(0);
