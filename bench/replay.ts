// Replay speed from JetStream into the engine, beside a raw ordered consumer of the same
// stream in the same run. Events are already in the event stream (as after a restart), so
// the engine applies commands without publishing.
//   npm run -s bench:replay -- [--commands 1000000] [--per-entry 50]
// TP_BENCH_PROFILE=FILE writes a CPU profile of the engine's replay only.
// The raw consumer reads entries; its rate is given in commands (entries x commands per
// entry), which is what a reader that only reads the log could feed an engine.
// Last line: {"commands":N,"perEntry":K,"commandsPerSec":X,"rawConsumerPerSec":Y,"ratio":R,"rawEntriesPerSec":E}
import { DeliverPolicy } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { commandStreamName, entrySeqOf, eventSubject } from "@tradeplane/contracts";
import { benchRunner, caughtUp } from "./support/engine.ts";
import { profileSection } from "./lib/section-profile.ts";
import { benchVenue, DEFAULT_PER_ENTRY, fillCommandLog, numericFlags } from "./support/venue.ts";

const flags = numericFlags({ commands: 1_000_000, perEntry: DEFAULT_PER_ENTRY });
const v = await benchVenue("replay");
const last = await fillCommandLog(v, flags.commands, { perEntry: flags.perEntry });
const lastEntry = entrySeqOf(last);

// Raw ordered consumer: read and count, nothing else.
async function rawRate(): Promise<number> {
  const consumer = await v.js.consumers.get(commandStreamName(v.venue), { deliver_policy: DeliverPolicy.All });
  const t0 = performance.now();
  const messages = await consumer.consume({ max_messages: 4_096 });
  let n = 0;
  for await (const m of messages) {
    n++;
    if (m.seq >= lastEntry) break;
  }
  await messages.close();
  return n / ((performance.now() - t0) / 1000);
}

// Mark every event as published, so replay applies commands only.
const h = headers();
await v.js.publish(eventSubject(v.venue, 0, "INFY"), new Uint8Array(), { msgID: `${last}-999999`, headers: h });

const raw1 = await rawRate();
const { runner } = await benchRunner(v);
const seconds = await profileSection(async () => {
  const t0 = performance.now();
  await runner.start();
  await caughtUp(runner);
  return (performance.now() - t0) / 1000;
});
await runner.stop();
const raw2 = await rawRate();
const rawEntriesPerSec = (raw1 + raw2) / 2;
const rawConsumerPerSec = (rawEntriesPerSec * flags.commands) / lastEntry;
const commandsPerSec = flags.commands / seconds;
await v.close();
console.log(
  JSON.stringify({
    commands: flags.commands,
    perEntry: flags.perEntry,
    commandsPerSec: Math.round(commandsPerSec),
    rawConsumerPerSec: Math.round(rawConsumerPerSec),
    ratio: Number((commandsPerSec / rawConsumerPerSec).toFixed(3)),
    rawEntriesPerSec: Math.round(rawEntriesPerSec),
  }),
);
process.exit(0);
