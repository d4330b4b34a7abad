// Open-loop end-to-end latency: orders sent at a fixed arrival rate by this process (a
// separate process from the services), each timed from its *intended* send time (so a
// stall delays later orders' clocks too and coordinated omission is not hidden) to the
// SubmitOrder response, which returns once the engine's accepted event has come back
// through the risk gateway's projection. Beside it, the floor: a raw JetStream
// publish-ack round trip on the same server, p99, measured in the same run.
//   npm run -s bench:e2e -- --rate 5000 --seconds 20 [--warmup 3] [--session 1]
// With --session 1 the orders go in batches on one Session stream per account (all orders
// due at each tick in one batch) and each is timed to its NEW report on the stream.
// With --lean 1 unary orders go out on one raw HTTP/2 connection (node:http2, gRPC framing by
// hand) instead of grpc-js: the same requests and responses on the wire, for a fraction of the
// client's CPU, which on two shared cores is CPU the services get back.
// Last line: {"rate":R,"achievedRate":A,"p50Ms":..,"p99Ms":..,"p999Ms":..,"maxMs":..,"errors":E,"floorP99Ms":F}
import { connect as http2Connect, type ClientHttp2Session } from "node:http2";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { credentials, Metadata } from "@grpc/grpc-js";
import { Kvm } from "@nats-io/kv";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  accountsBucket,
  commandStreamName,
  eventStreamName,
  ExecType,
  OrderEntryClient,
  OrderType,
  RequestKind,
  Side,
  TimeInForce,
  type OrderRequest,
  type SessionResponse,
  SubmitOrderRequest,
  type SubmitOrderResponse,
} from "@tradeplane/contracts";
import { ServiceProcess, testInstrumentSettings } from "@tradeplane/testkit";
import { EngineProcess } from "@tradeplane/matching/test-support/engine-process";
import { putAccount, putToken } from "@tradeplane/accounts";
import { cpuSecondsOf } from "./lib/cpu-time.ts";
import { Histogram } from "./lib/histogram.ts";
import { benchVenue, numericFlags } from "./support/venue.ts";

const flags = numericFlags({ rate: 5_000, seconds: 20, warmup: 3, session: 0, lean: 0 });
const v = await benchVenue("e2e");
const kv = await new Kvm(v.nc).open(accountsBucket(v.venue));
const tokens = ["alice", "bob"].map((name) => ({ name, token: `${name}-bench-token-0123456789` }));
for (const { name, token } of tokens) {
  await putAccount(kv, { name, disabled: false, principals: [name], limits: {}, defaultStpMode: 0 });
  await putToken(kv, token, name);
}
const engine = new EngineProcess({
  natsUrl: v.server.url,
  venue: v.venue,
  instanceId: "bench-engine",
  instruments: testInstrumentSettings,
  env: {
    TP_LOG_LEVEL: "warn",
    ...(process.env.TP_BENCH_ENGINE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.TP_BENCH_ENGINE_NODE_OPTIONS } : {}),
  },
});
await engine.start();
const gateway = new ServiceProcess({
  main: fileURLToPath(import.meta.resolve("@tradeplane/risk/main")),
  config: {
    instruments: testInstrumentSettings.map((i) => ({
      symbol: i.symbol,
      partition: 0,
      referencePrice: i.referencePrice,
    })),
  },
  env: {
    TP_NATS_URL: v.server.url,
    TP_VENUE: v.venue,
    TP_INSTANCE_ID: "bench-gw",
    TP_LOG_LEVEL: "warn",
    ...(process.env.TP_BENCH_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.TP_BENCH_GATEWAY_NODE_OPTIONS } : {}),
  },
});
await gateway.start();
while ((await engine.ops<{ role: string }>("/status")).role !== "primary") await new Promise((r) => setTimeout(r, 10));

// The floor: sequential publish-ack round trips to a scratch stream.
const jsm = await jetstreamManager(v.nc);
await jsm.streams.add({ name: "FLOOR", subjects: ["floor"] });
const floor = new Histogram();
for (let i = 0; i < 2_000; i++) {
  const t = process.hrtime.bigint();
  await v.js.publish("floor", new Uint8Array(64));
  floor.record(Number(process.hrtime.bigint() - t));
}

const client = new OrderEntryClient(`127.0.0.1:${gateway.grpcPort}`, credentials.createInsecure());
const metadata = tokens.map(({ token }) => {
  const m = new Metadata();
  m.set("authorization", `Bearer ${token}`);
  return m;
});
const total = Math.round(flags.rate * (flags.seconds + flags.warmup));
/** Orders sent during the warm-up (JIT, connection set-up) are not measured. */
const measuredFrom = Math.round(flags.rate * flags.warmup);
const latency = new Histogram();
const loadLoop = monitorEventLoopDelay({ resolution: 1 });
loadLoop.enable();
/** Worst latency (us) per quarter second of intended send time: tells a few stalls from a slow path. */
const SLOT_S = 0.25;
const worstBySlot: number[] = [];
let done = 0;
let errors = 0;
let sent = 0;
const startNs = process.hrtime.bigint() + 50_000_000n;
/** CPU seconds of each process when sending starts: CPU per order is what bounds the rate on shared cores. */
const cpuAtStart = cpuNow();
const intervalNs = 1e9 / flags.rate;
const orderAt = (i: number) => {
  const buy = (i & 1) === 0;
  return {
    account: "",
    clientOrderId: `o${i}`,
    instrument: i % 3 === 0 ? "TCS" : "INFY",
    side: buy ? Side.BUY : Side.SELL,
    orderType: OrderType.LIMIT,
    timeInForce: i % 10 === 0 ? TimeInForce.IOC : TimeInForce.DAY,
    price: buy ? 99_950 + (i % 60) : 100_000 - 9 + (i % 60),
    stopPrice: 0,
    qty: 1 + (i % 50),
    postOnly: false,
    stpMode: 0 as const,
    expireTime: undefined,
    displayQty: 0,
    stpGroup: 0,
  };
};
/** Failure texts and how often each came (printed to stderr at the end: the JSON line says only how many). */
const failures = new Map<string, number>();
const noteFailure = (text: string): void => {
  const key = text.replace(/"clientOrderId":"o\d+"|o\d+/g, "o#").slice(0, 300);
  if (failures.size < 20 || failures.has(key)) failures.set(key, (failures.get(key) ?? 0) + 1);
};
const intendedNs = (i: number): bigint => startNs + BigInt(Math.round(i * intervalNs));
const record = (i: number, failed: boolean, resolve: () => void): void => {
  if (failed) errors++;
  if (++done === total) resolve();
  if (i < measuredFrom) return;
  // Microseconds: the histogram holds up to 2^31 units, and an overloaded run can exceed 2 s.
  const us = Number(process.hrtime.bigint() - intendedNs(i)) / 1_000;
  latency.record(us);
  const slot = Math.floor(i / (flags.rate * SLOT_S));
  worstBySlot[slot] = Math.max(worstBySlot[slot] ?? 0, us);
};
/** Sleeps until the next order is due (a busy loop would starve this process's own I/O). */
const scheduleNext = (pump: () => void): void => {
  if (sent < total)
    setTimeout(pump, Math.max(0, (sent * intervalNs - Number(process.hrtime.bigint() - startNs)) / 1e6));
};
/** A unary SubmitOrder on a raw HTTP/2 stream; `done` once, with whether it failed. */
/** Raw HTTP/2 connections for --lean, used in turn; one that fails is replaced (its requests fail). */
const LEAN_CONNECTIONS = 4;
let leanErrors = 0;
const leanConnect = (k: number): ClientHttp2Session => {
  const session = http2Connect(`http://127.0.0.1:${gateway.grpcPort}`);
  session.on("error", (err: Error) => {
    if (leanErrors++ === 0) process.stderr.write(`lean client: connection failed (${err.message}); reconnecting\n`);
    if (lean?.[k] === session) lean[k] = leanConnect(k);
  });
  return session;
};
const lean: ClientHttp2Session[] | undefined =
  flags.lean === 0 ? undefined : Array.from({ length: LEAN_CONNECTIONS }, (_, k) => leanConnect(k));
const leanSubmit = (i: number, done: (failed: boolean) => void): void => {
  const body = SubmitOrderRequest.encode(orderAt(i)).finish();
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0; // not compressed
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  const req = lean![i % LEAN_CONNECTIONS]!.request({
    ":method": "POST",
    ":path": "/tradeplane.v1.OrderEntry/SubmitOrder",
    "content-type": "application/grpc",
    te: "trailers",
    authorization: `Bearer ${tokens[i & 1]!.token}`,
  });
  let status = -1;
  let received = 0;
  let settled = false;
  const settle = (failed: boolean): void => {
    if (settled) return;
    settled = true;
    done(failed);
  };
  req.on("response", (headers) => {
    if (headers["grpc-status"] !== undefined) status = Number(headers["grpc-status"]); // trailers-only
  });
  req.on("trailers", (trailers) => (status = Number(trailers["grpc-status"])));
  req.on("data", (chunk: Buffer) => (received += chunk.length));
  // An empty SubmitOrderResponse (no reports) is a 5-byte frame: count it as failed, as grpc-js mode does.
  req.on("end", () => settle(status !== 0 || received <= 5));
  req.on("error", () => settle(true));
  req.end(frame);
};
const finished = new Promise<void>((resolve) => {
  if (flags.session === 0) {
    const pump = (): void => {
      const now = Number(process.hrtime.bigint() - startNs);
      while (sent < total && sent * intervalNs <= now) {
        const i = sent++;
        if (lean !== undefined) leanSubmit(i, (failed) => record(i, failed, resolve));
        else
          client.submitOrder(orderAt(i), metadata[i & 1]!, (err: Error | null, res: SubmitOrderResponse) => {
            const failed = err !== null || res.reports.length === 0;
            if (failed) noteFailure(err?.message ?? "no reports");
            else if (res.reports[0]!.execType === ExecType.REJECTED)
              noteFailure(`(not counted as an error) rejected: ${res.reports[0]!.text}`);
            record(i, failed, resolve);
          });
      }
      scheduleNext(pump);
    };
    pump();
    return;
  }
  // Session mode: one stream per account; orders due at a tick go out as one batch each.
  const sessions = metadata.map((m) => {
    const stream = client.session(m);
    let seq = 0;
    stream.on("data", (msg: SessionResponse) => {
      if (msg.message?.$case === "acks")
        for (const ack of msg.message.value.acks)
          if (!ack.accepted) record(Number(ack.clientOrderId.slice(1)), true, resolve);
      if (msg.message?.$case === "reports")
        for (const r of msg.message.value.reports)
          if (
            r.execType === ExecType.NEW ||
            (r.execType === ExecType.REJECTED && r.requestKind === RequestKind.NEW_ORDER)
          )
            record(Number(r.order!.clientOrderId.slice(1)), r.execType === ExecType.REJECTED, resolve);
    });
    stream.on("error", (err: Error) => {
      if (done === total) return; // closed at the end of the run
      console.error(`session failed: ${err.message}`);
      process.exit(1);
    });
    stream.write({
      sequence: ++seq,
      message: {
        $case: "open",
        value: { account: "", cancelOnDisconnect: false, heartbeatIntervalMs: 0, acksOnly: false },
      },
    });
    // Heartbeats keep the session open while the last reports arrive.
    const beat = setInterval(
      () => stream.write({ sequence: ++seq, message: { $case: "heartbeat", value: { time: undefined } } }),
      300,
    );
    beat.unref();
    return { stream, next: () => ++seq };
  });
  const pump = (): void => {
    const now = Number(process.hrtime.bigint() - startNs);
    const batches: OrderRequest[][] = [[], []];
    while (sent < total && sent * intervalNs <= now) {
      const i = sent++;
      batches[i & 1]!.push({ request: { $case: "submitOrder", value: orderAt(i) }, traceparent: "" });
    }
    batches.forEach((requests, k) => {
      for (let from = 0; from < requests.length; from += 1_000) {
        const s = sessions[k]!;
        s.stream.write({
          sequence: s.next(),
          message: { $case: "batch", value: { requests: requests.slice(from, from + 1_000) } },
        });
      }
    });
    scheduleNext(pump);
  };
  pump();
});
// An overloaded run may never finish: give it a bounded time, and count what did not arrive.
await Promise.race([
  finished,
  new Promise((r) => setTimeout(r, (flags.seconds + flags.warmup) * 1_000 + 60_000).unref()),
]);
errors += total - done;
for (const [text, count] of failures) console.error(`failure x${count}: ${text}`);
const seconds = Number(process.hrtime.bigint() - startNs) / 1e9 - flags.warmup;
const cpuUsed = cpuNow().map((c, i) => c - cpuAtStart[i]!);
client.close();
loadLoop.disable();
process.stderr.write(
  `CPU per order (us, whole run): ${["load generator", "gateway", "engine", "nats-server"]
    .map((name, i) => `${name} ${Math.round((cpuUsed[i]! * 1e6) / done)}`)
    .join(", ")}; ${cpuUsed.reduce((a, b) => a + b, 0).toFixed(1)} CPU-s in ${(seconds + flags.warmup).toFixed(1)} s\n`,
);
process.stderr.write(
  `load generator: event-loop delay p99 ${(loadLoop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loadLoop.max / 1e6).toFixed(1)} ms (resolution 1 ms)\n`,
);
// Where stalls come from: each service's GC pauses and event-loop delay (prom-client defaults).
for (const [name, service] of [
  ["engine", engine],
  ["gateway", gateway],
] as const) {
  const text = await fetch(`http://127.0.0.1:${service.opsPort}/metrics`).then((r) => r.text());
  const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  // Per kind: total time, and how many pauses reached 10 ms and 100 ms (the histogram's buckets).
  const bucket = (kind: string, le: string): number => {
    for (const line of text.split("\n"))
      if (
        line.startsWith("nodejs_gc_duration_seconds_bucket{") &&
        line.includes(`le="${le}"`) &&
        line.includes(`kind="${kind}"`)
      )
        return Number(line.slice(line.lastIndexOf(" ") + 1));
    return NaN;
  };
  const gc = [...text.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*kind="(\w+)"[^}]*\} ([\d.e+-]+)/gm)]
    .map((m) => {
      const kind = m[1]!;
      const count = value(new RegExp(`^nodejs_gc_duration_seconds_count\\{[^}]*kind="${kind}"[^}]*\\} (\\d+)`, "m"));
      const over10 = count - bucket(kind, "0.01");
      const over100 = count - bucket(kind, "0.1");
      return `${kind} ${(Number(m[2]) * 1_000).toFixed(0)} ms in ${count} (${over10} >= 10 ms, ${over100} >= 100 ms)`;
    })
    .join(", ");
  process.stderr.write(
    `${name}: GC ${gc || "?"}; event-loop delay max ${(value(/^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([\d.e+-]+)/m) * 1_000).toFixed(1)} ms, ` +
      `p99 ${(value(/^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([\d.e+-]+)/m) * 1_000).toFixed(1)} ms\n`,
  );
}
// How the log batched: commands per entry and events per message set the per-message costs.
{
  const entries = (await jsm.streams.info(commandStreamName(v.venue))).state.messages;
  const eventMessages = (await jsm.streams.info(eventStreamName(v.venue))).state.messages;
  process.stderr.write(
    `log: ${entries} command entries (${(total / entries).toFixed(1)} orders each), ${eventMessages} event messages (${(eventMessages / total).toFixed(2)} per order)\n`,
  );
}
await gateway.signal("SIGTERM");
await engine.signal("SIGTERM");
await v.close();
const ms = (ns: number): number => Number((ns / 1e6).toFixed(3));
const stalls = worstBySlot
  .map((us, slot) => ({ at: slot * SLOT_S, us }))
  .filter((x) => x.us > 10 * latency.quantile(0.5))
  .map((x) => `${x.at.toFixed(2)}s:${(x.us / 1_000).toFixed(1)}ms`);
process.stderr.write(
  `quarter seconds whose worst order took over 10x the median (intended send time: worst): ${stalls.length === 0 ? "none" : stalls.join(" ")}\n`,
);
const msOfUs = (us: number): number => Number((us / 1e3).toFixed(3));
console.log(
  JSON.stringify({
    mode: flags.session !== 0 ? "session" : flags.lean !== 0 ? "unary-lean" : "unary",
    rate: flags.rate,
    achievedRate: Math.round((total - measuredFrom) / seconds),
    p50Ms: msOfUs(latency.quantile(0.5)),
    p99Ms: msOfUs(latency.quantile(0.99)),
    p999Ms: msOfUs(latency.quantile(0.999)),
    maxMs: msOfUs(latency.max),
    errors,
    floorP99Ms: ms(floor.quantile(0.99)),
  }),
);
process.exit(0);

/** CPU seconds so far of the load generator, the gateway, the engine and nats-server. */
function cpuNow(): number[] {
  const own = process.cpuUsage();
  return [
    (own.user + own.system) / 1e6,
    cpuSecondsOf(gateway.pid),
    cpuSecondsOf(engine.pid),
    cpuSecondsOf(v.server.pid),
  ];
}
