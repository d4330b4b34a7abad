// Sustained throughput of the whole log path on this machine: a load process publishes
// commands to the command log (pipelined), the engine service (a separate process)
// applies them and publishes their events; measured from the first command sent to the
// last command's events stored.
//   npm run -s bench:log -- [--commands 200000] [--per-entry 50]
// Last line: {"commands":N,"perEntry":K,"seconds":S,"commandsPerSec":X,"eventMessagesPerSec":E,"eventMessages":M,
//   "engineCpuUsPerCommand":C,"natsCpuUsPerCommand":D}  (CPU microseconds per command of the
//   engine process and of nats-server: steadier than rates when the machine is shared)
import { commandStreamName, eventStreamName } from "@tradeplane/contracts";
import { testInstrumentSettings } from "@tradeplane/testkit";
import { cpuSecondsOf } from "./lib/cpu-time.ts";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { benchVenue, DEFAULT_PER_ENTRY, fillCommandLog, numericFlags, streamMessages } from "./support/venue.ts";

const flags = numericFlags({ commands: 200_000, perEntry: DEFAULT_PER_ENTRY });
const v = await benchVenue("log");
const engine = new EngineProcess({
  natsUrl: v.server.url,
  venue: v.venue,
  instanceId: "bench-engine",
  instruments: testInstrumentSettings,
  env: {
    TP_LOG_LEVEL: "warn",
    TP_SNAPSHOT_EVERY_COMMANDS: "100000",
    ...(process.env.TP_BENCH_ENGINE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.TP_BENCH_ENGINE_NODE_OPTIONS } : {}),
  },
});
await engine.start();
// Wait for the lease, so events are published from the first command.
while ((await engine.ops<{ role: string }>("/status")).role !== "primary") await new Promise((r) => setTimeout(r, 10));

const engineCpu0 = cpuSecondsOf(engine.pid);
const natsCpu0 = cpuSecondsOf(v.server.pid);
const t0 = performance.now();
const last = await fillCommandLog(v, flags.commands, { perEntry: flags.perEntry });
await engine.waitForSeq(last, 600_000);
while ((await engine.ops<{ publishBacklog: number }>("/status")).publishBacklog > 0)
  await new Promise((r) => setTimeout(r, 2));
const seconds = (performance.now() - t0) / 1000;
const engineCpu = cpuSecondsOf(engine.pid) - engineCpu0;
const natsCpu = cpuSecondsOf(v.server.pid) - natsCpu0;
const events = await streamMessages(v.nc, eventStreamName(v.venue));
const entries = await streamMessages(v.nc, commandStreamName(v.venue));
const commands = flags.commands;
await engine.signal("SIGTERM");
await v.close();
console.log(
  JSON.stringify({
    commands,
    perEntry: flags.perEntry,
    entries,
    seconds: Number(seconds.toFixed(3)),
    commandsPerSec: Math.round(commands / seconds),
    eventMessagesPerSec: Math.round(events / seconds),
    eventMessages: events,
    engineCpuUsPerCommand: Number(((engineCpu * 1e6) / commands).toFixed(1)),
    natsCpuUsPerCommand: Number(((natsCpu * 1e6) / commands).toFixed(1)),
  }),
);
process.exit(0);
