// Market-data fan-out: engine events published straight into the venue's event stream (core
// NATS publishes to the stream's subject, open loop at --rate events/s, in messages of runs of
// consecutive events about one instrument from --per-entry commands, as the engine publishes
// a log entry's events; each message is due when its first event is; the events are the
// pure engine partition's output for the testkit command stream, so the book is real), the
// market-data service as a child process building its state from the stream, and --subscribers
// gRPC L2 subscribers (depth 10, no conflation interval; half on INFY, half on TCS, spread
// over 20 connections) held by a separate client process. Latency is from an event's
// *intended* publish time (so a stalled publisher does not hide delay) to the receipt of the
// first L2 update reflecting it (its source_sequence), on the same host's clock.
//   npm run -s bench:marketdata -- --subscribers 1000 --rate 20000 [--per-entry 1] [--seconds 20] [--warmup 3] [--fanout-interval 0] [--batch-events 512] [--in-flight 4] [--duty-wait 1]
// (--fanout-interval, --batch-events, --in-flight, --duty-wait: the service's fanoutIntervalMs,
// batchEvents, maxInFlightWrites and fanoutDutyWait settings)
// Last line: {"subscribers":N,"eventsPerSec":R,"p50Ms":..,"p99Ms":..,"conflated":C,"disconnected":D}
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client, credentials } from "@grpc/grpc-js";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  BarInterval,
  Command,
  EngineEventBatch,
  type EngineEvent,
  eventStreamName,
  eventSubject,
  MarketDataChannel,
  snapshotsBucket,
  SubscribeRequest,
} from "@tradeplane/contracts";
import { openBlobStore } from "@tradeplane/platform";
import { commandStream, ServiceProcess, testInstrumentSettings } from "@tradeplane/testkit";
import { Partition } from "@tradeplane/matching-core/partition";
import { eventRuns } from "@tradeplane/matching-core/event-runs";
import { engineConfigOf } from "@tradeplane/matching-core/engine-config";
import { Histogram } from "./lib/histogram.ts";
import { benchVenue, numericFlags } from "./support/venue.ts";

const CONNECTIONS = 20;
/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one host. */
const wallMs = (): number => performance.timeOrigin + performance.now();

interface Plan {
  readonly t0: number;
  /** Events per second. */
  readonly rate: number;
  readonly firstSeq: number;
  /** Events published before each message: message firstSeq + i is due at t0 + eventsBefore[i] / rate. */
  readonly eventsBefore: number[];
  readonly measureFromSeq: number;
  readonly measureToSeq: number;
}

if (process.argv[2] === "--client") await runClients();
else await runBench();

/** The subscriber process: opens the subscriptions, then records latency until told to stop. */
async function runClients(): Promise<void> {
  const [, , , port, count] = process.argv;
  const clients = Array.from(
    { length: CONNECTIONS },
    (_, i) =>
      new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
        "grpc.use_local_subchannel_pool": 1,
        "grpc-node.bench_connection": i,
      }),
  );
  const latency = new Histogram();
  let plan: Plan | undefined;
  let updates = 0;
  let errors = 0;
  let opened = 0;
  const n = Number(count);
  const request = (instrument: string): Buffer =>
    Buffer.from(
      SubscribeRequest.encode({
        instruments: [instrument],
        channels: [MarketDataChannel.L2],
        depth: 10,
        conflationIntervalMs: 0,
        barInterval: BarInterval.UNSPECIFIED,
        fromSequence: undefined,
      }).finish(),
    );
  // A lean client: it reads only sequence and source_sequence (fields 1 and 2, varints, the
  // first bytes of every update) so that its CPU, on the same cores, is spent on receiving.
  const lean = (b: Buffer): { sequence: number; source: number } => {
    let pos = 0;
    const varint = (): number => {
      let v = 0;
      let mul = 1;
      for (;;) {
        const byte = b[pos++]!;
        v += (byte & 0x7f) * mul;
        if (byte < 0x80) return v;
        mul *= 128;
      }
    };
    let sequence = 0;
    let source = 0;
    if (b[pos] === 0x08) {
      pos++;
      sequence = varint();
    }
    if (b[pos] === 0x10) {
      pos++;
      source = varint();
    }
    return { sequence, source };
  };
  const calls = Array.from({ length: n }, (_, i) => {
    const call = clients[i % CONNECTIONS]!.makeServerStreamRequest(
      "/tradeplane.v1.MarketData/Subscribe",
      (x: Buffer) => x,
      lean,
      request(i % 2 === 0 ? "INFY" : "TCS"),
    );
    let first = true;
    call.on("data", (u: { sequence: number; source: number }) => {
      if (first) {
        first = false;
        if (++opened === n) process.send!({ type: "ready" });
        return;
      }
      updates++;
      const p = plan;
      if (p === undefined || u.source < p.measureFromSeq || u.source > p.measureToSeq) return;
      const intended = p.t0 + (p.eventsBefore[u.source - p.firstSeq]! * 1_000) / p.rate;
      // Microseconds: the histogram holds up to 2^31 units.
      latency.record((wallMs() - intended) * 1_000);
    });
    call.on("error", () => errors++);
    return call;
  });
  process.on("message", (m: { type: string; plan?: Plan }) => {
    if (m.type === "plan") plan = m.plan;
    if (m.type === "stop") {
      for (const c of calls) c.cancel();
      const cpu = process.cpuUsage();
      process.send!(
        {
          type: "result",
          counts: [...latency.counts],
          max: latency.max,
          total: latency.total,
          updates,
          errors,
          cpuS: (cpu.user + cpu.system) / 1e6,
        },
        () => process.exit(0),
      );
    }
  });
}

async function runBench(): Promise<void> {
  const flags = numericFlags({
    subscribers: 1_000,
    rate: 20_000,
    perEntry: 1,
    seconds: 20,
    warmup: 3,
    fanoutInterval: 0,
    batchEvents: 512,
    inFlight: 4,
    dutyWait: 1,
  });
  const v = await benchVenue("mdbench");
  const service = new ServiceProcess({
    main: fileURLToPath(import.meta.resolve("@tradeplane/market-data/main")),
    config: {
      instruments: testInstrumentSettings.map((i) => ({ symbol: i.symbol, referencePrice: i.referencePrice })),
    },
    env: {
      TP_NATS_URL: v.server.url,
      TP_VENUE: v.venue,
      TP_INSTANCE_ID: "bench-md",
      TP_LOG_LEVEL: "warn",
      TP_WS_PORT: "0",
      TP_FANOUT_INTERVAL_MS: String(flags.fanoutInterval),
      TP_BATCH_EVENTS: String(flags.batchEvents),
      TP_MAX_IN_FLIGHT_WRITES: String(flags.inFlight),
      TP_FANOUT_DUTY_WAIT: String(flags.dutyWait),
      ...(process.env.TP_BENCH_MD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.TP_BENCH_MD_NODE_OPTIONS } : {}),
    },
  });
  await service.start();

  // The events: what the engine publishes for the testkit command stream, an entry of
  // --per-entry commands at a time (in the stream's order, not regrouped by instrument as the
  // gateway's writer would: runs are no longer than the engine's, so messages no fewer).
  const totalEvents = Math.round(flags.rate * (flags.seconds + flags.warmup));
  const partition = Partition.create({ engine: engineConfigOf({ instruments: testInstrumentSettings }) });
  const events: { subject: string; data: Uint8Array }[] = [];
  const eventsBefore: number[] = [];
  let eventsInMessages = 0;
  for (let start = 0; eventsInMessages < totalEvents; start += 50_000) {
    const commands = commandStream(50_000, start + 1, start + 1, 1_767_225_600_000 + start);
    for (let i = 0; i < commands.length && eventsInMessages < totalEvents; i += flags.perEntry) {
      const entry: EngineEvent[] = [];
      for (let k = i; k < Math.min(commands.length, i + flags.perEntry); k++) {
        partition.apply(start + 1 + k, Command.decode(Command.encode(commands[k]!).finish()));
        entry.push(...partition.wireEvents());
      }
      for (const run of eventRuns(entry)) {
        events.push({
          subject: eventSubject(v.venue, 0, run.instrument),
          data: EngineEventBatch.encode({ events: run.events }).finish(),
        });
        eventsBefore.push(eventsInMessages);
        eventsInMessages += run.events.length;
      }
    }
  }
  const needed = events.length;

  const child = fork(
    fileURLToPath(import.meta.url),
    ["--client", String(service.grpcPort), String(flags.subscribers)],
    {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once("message", (m: { type: string }) =>
      m.type === "ready" ? resolve() : reject(new Error(String(m.type))),
    );
    child.once("exit", (code) => reject(new Error(`subscriber process exited (${code})`)));
  });

  const jsm = await jetstreamManager(v.nc);
  const firstSeq = (await jsm.streams.info(eventStreamName(v.venue))).state.last_seq + 1;
  const t0 = wallMs() + 100;
  const plan: Plan = {
    t0,
    rate: flags.rate,
    firstSeq,
    eventsBefore,
    measureFromSeq: firstSeq + eventsBefore.findIndex((n) => n >= flags.rate * flags.warmup),
    measureToSeq: firstSeq + needed - 1,
  };
  child.send({ type: "plan", plan });
  // Open loop: every event published at (or as soon as possible after) its intended time.
  let sent = 0;
  // How far the service is behind the log, sampled: tells a slow service from a slow client.
  let maxLag = 0;
  const lagTimer = setInterval(() => {
    const published = firstSeq + sent - 1;
    void fetch(`http://127.0.0.1:${service.opsPort}/metrics`)
      .then((r) => r.text())
      .then((m) => {
        const position = Number(/^tp_md_log_position\{[^}]*\} (\d+)/m.exec(m)?.[1] ?? 0);
        maxLag = Math.max(maxLag, published - position);
      })
      .catch(() => undefined);
  }, 250);
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      const dueEvents = ((wallMs() - t0) * flags.rate) / 1_000;
      while (sent < needed && eventsBefore[sent]! <= dueEvents) {
        const e = events[sent++]!;
        v.nc.publish(e.subject, e.data);
      }
      if (sent >= needed) return resolve();
      setTimeout(pump, Math.max(0, t0 + (eventsBefore[sent]! * 1_000) / flags.rate - wallMs()));
    };
    pump();
  });
  await v.nc.flush();
  clearInterval(lagTimer);
  // Wait for the service to apply everything (bounded), then for the last updates to arrive.
  const lastSeq = firstSeq + needed - 1;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const metrics = await (await fetch(`http://127.0.0.1:${service.opsPort}/metrics`)).text();
    const position = Number(/^tp_md_log_position\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    if (position >= lastSeq || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 500));
  const stored = (await jsm.streams.info(eventStreamName(v.venue))).state.last_seq;
  const metrics = await (await fetch(`http://127.0.0.1:${service.opsPort}/metrics`)).text();
  const sum = (name: string): number =>
    [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)`, "gm"))].reduce(
      (s, m) => s + Number(m[1]),
      0,
    );
  const result = await new Promise<{
    counts: number[];
    max: number;
    total: number;
    updates: number;
    errors: number;
    cpuS: number;
  }>((resolve) => {
    child.once("message", (m) => resolve(m as never));
    child.send({ type: "stop" });
  });
  const latency = new Histogram();
  latency.counts.set(result.counts);
  latency.total = result.total;
  latency.max = result.max;
  const elapsedS = (wallMs() - t0) / 1_000;
  process.stderr.write(
    `published ${eventsInMessages} events in ${sent} messages (${(eventsInMessages / events.length).toFixed(2)} events each, ${flags.perEntry} commands per entry; stream holds ${stored - firstSeq + 1} of them), ${result.updates} L2 updates received, ` +
      `${result.total} measured, max ${(latency.max / 1_000).toFixed(1)} ms, service behind the log by up to ${maxLag} events, ` +
      `CPU s: service ${sum("process_cpu_seconds_total").toFixed(1)}, subscribers ${result.cpuS.toFixed(1)}, ` +
      `publisher ${((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(1)}, ` +
      `${elapsedS.toFixed(1)} s\n`,
  );
  // A service that fell more than a second behind: show what it said (consumer replaced, ...).
  if (maxLag > flags.rate) process.stderr.write(`service log tail:\n${service.log.slice(-3_000)}\n`);
  await service.signal("SIGTERM");
  // A replica started late: it rebuilds its state by replaying the whole event stream
  // (without the state snapshots the service wrote, at shutdown the last).
  const snapshots = await openBlobStore(v.nc, snapshotsBucket(v.venue));
  for (const name of await snapshots.list("md-")) await snapshots.delete(name);
  const late = new ServiceProcess({
    main: fileURLToPath(import.meta.resolve("@tradeplane/market-data/main")),
    config: {
      instruments: testInstrumentSettings.map((i) => ({ symbol: i.symbol, referencePrice: i.referencePrice })),
    },
    env: {
      TP_NATS_URL: v.server.url,
      TP_VENUE: v.venue,
      TP_INSTANCE_ID: "bench-late",
      TP_LOG_LEVEL: "warn",
      TP_WS_PORT: "0",
    },
  });
  const lateStart = performance.now();
  await late.start();
  while ((await fetch(`http://127.0.0.1:${late.opsPort}/readyz`)).status !== 200)
    await new Promise((r) => setTimeout(r, 20));
  const replayS = (performance.now() - lateStart) / 1_000;
  process.stderr.write(
    `late replica: started and replayed ${stored} event messages in ${replayS.toFixed(2)} s ` +
      `(${Math.round(stored / replayS)} messages/s, process start included)\n`,
  );
  await late.signal("SIGTERM");
  await v.close();
  const ms = (us: number): number => Math.round(us) / 1_000;
  console.log(
    JSON.stringify({
      subscribers: flags.subscribers,
      eventsPerSec: flags.rate,
      perEntry: flags.perEntry,
      p50Ms: ms(latency.quantile(0.5)),
      p99Ms: ms(latency.quantile(0.99)),
      conflated: sum("tp_md_conflations_total"),
      disconnected: sum("tp_md_slow_consumer_disconnects_total") + result.errors,
    }),
  );
  process.exit(0);
}
