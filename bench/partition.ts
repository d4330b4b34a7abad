/**
 * A partition's apply rate (the pure Partition: commands in, wire events out, as the engine
 * service runs it) in CPU time, so that a loaded machine slows it less than wall time would.
 * With --id-base the command sequences (and so the order ids) start there: 2e12 is a venue
 * about 2e9 log entries old, far past V8's small integers (about 1.07 M entries).
 *
 *   npm run -s bench:partition -- [--commands 300000] [--id-base 2000000000000] [--runs 5]
 *
 * Last line: {"commands":N,"idBase":B,"runs":R,"commandsPerCpuSecond":median,"all":[...]}
 */
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { Partition } from "@tradeplane/matching-core/partition";
import { commandStream, testInstrumentSettings } from "@tradeplane/testkit";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} takes a whole number >= 0`);
  return value;
}

const commands = flag("commands", 300_000);
const idBase = flag("id-base", 0);
const runs = Math.max(1, flag("runs", 5));
const seqOf = (i: number) => idBase + (i + 1) * 1_000;
const stream = commandStream(commands, 7, seqOf);

function run(): number {
  const partition = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
  const c0 = process.cpuUsage();
  for (let i = 0; i < commands; i++) {
    partition.apply(seqOf(i), stream[i]);
    partition.wireEvents();
  }
  const c = process.cpuUsage(c0);
  return Math.round(commands / ((c.user + c.system) / 1e6));
}

run(); // warm-up: the code is optimised before the timed runs
const all = Array.from({ length: runs }, run);
const sorted = [...all].sort((a, b) => a - b);
console.error(`partition: ${commands} commands from id ${idBase}: ${all.join(", ")} commands per CPU second`);
console.log(JSON.stringify({ commands, idBase, runs, commandsPerCpuSecond: sorted[Math.floor(runs / 2)], all }));
