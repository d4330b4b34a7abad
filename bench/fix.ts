// The FIX gateway. (1) Its codec: parse plus encode of a NewOrderSingle and an
// ExecutionReport, alternately, with our codec (fields read into values, the message
// written back from them) and with jspurefix (parse into its view and object, encode the
// object with its transmitter) on the same bytes in the same run. (2) D-to-8 through the
// whole venue: a FIX client sends NewOrderSingles at --rate per second for --seconds to the
// gateway in front of a real local venue (nats-server, and the engine, the risk gateway,
// market data and the FIX gateway each in its own process, as in local mode) and times each
// from its write to the first ExecutionReport read back (client side: TCP both ways
// included). --venue 0 skips (2).
//   npm run -s bench:fix -- [--messages 2000000] [--rate 2000] [--seconds 10]
// Last line: {"codecMsgsPerSec":X,"jspurefixCodecMsgsPerSec":Y,...,"p50Ms":..,"p99Ms":..}
// codec*PerSec are per wall second, codec*PerCpuSec per second of the process's CPU time (far
// steadier on a shared machine); loadAvg1m is the host's 1-minute load average before and
// after the codec part.
import { loadavg } from "node:os";
import { encodeFields, FixEncoder } from "@tradeplane/fix-gateway/domain/fix-encoder";
import { FixParser, ParseStatus } from "@tradeplane/fix-gateway/domain/fix-parser";
import { jspurefixCodec } from "./support/jspurefix-codec.ts";
import { numericFlags } from "./support/venue.ts";
import { Histogram } from "./lib/histogram.ts";
import { FixClient } from "@tradeplane/fix-gateway/test-support/fix-client";
import { startFixVenue } from "@tradeplane/fix-gateway/test-support/venue";

const flags = numericFlags({ messages: 2_000_000, foreignMessages: 200_000, rate: 2_000, seconds: 10, venue: 1 });

const encoder = new FixEncoder();
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0, 123);
const nosBytes = Buffer.from(
  encoder
    .start("D")
    .string(49, "CLIENT")
    .string(56, "VENUE")
    .int(34, 1234)
    .timestamp(52, NOW)
    .string(11, "client-order-000123")
    .string(1, "acc-1")
    .string(55, "INFY")
    .char(54, 0x31)
    .timestamp(60, NOW)
    .decimal(38, 100, 0)
    .char(40, 0x32)
    .decimal(44, 150025, -2)
    .char(59, 0x30)
    .finish(),
);
const execBytes = Buffer.from(
  encoder
    .start("8")
    .string(49, "VENUE")
    .string(56, "CLIENT")
    .int(34, 5678)
    .timestamp(52, NOW)
    .string(37, "981234")
    .string(11, "client-order-000123")
    .string(17, "981234-7")
    .char(150, 0x46)
    .char(39, 0x31)
    .string(1, "acc-1")
    .string(55, "INFY")
    .char(54, 0x31)
    .decimal(38, 100, 0)
    .char(40, 0x32)
    .decimal(44, 150025, -2)
    .decimal(32, 40, 0)
    .decimal(31, 150025, -2)
    .decimal(151, 60, 0)
    .decimal(14, 40, 0)
    .decimal(6, 150025, -2)
    .timestamp(60, NOW)
    .finish(),
);

/**
 * Our codec: every field read into a value, the message written back from the values, as
 * the gateway does: ClOrdID, OrderID and ExecID become strings (they go to and come from
 * OrderEntry as strings), Account and Symbol come from the message's table of recent
 * values (interned(), what the gateway's request mapping uses), numbers are read from and
 * written to the bytes directly.
 */
const parser = new FixParser();
// A session's CompIDs are encoded once, as the gateway's session does for its header.
const clientHeader = encodeFields([
  [49, "CLIENT"],
  [56, "VENUE"],
]);
const venueHeader = encodeFields([
  [49, "VENUE"],
  [56, "CLIENT"],
]);
let sink = 0;
function ours(n: number): number {
  for (let i = 0; i < n; i++) {
    const src = (i & 1) === 0 ? nosBytes : execBytes;
    if (parser.parse(src, 0, src.length) !== ParseStatus.Message) throw new Error("parse failed");
    const m = parser.message;
    const seq = m.int(34);
    const sent = m.timestamp(52);
    const clOrdId = m.string(11)!;
    const account = m.interned(1)!;
    const symbol = m.interned(55)!;
    const side = m.char(54);
    m.decimal(38);
    const qty = m.mantissa;
    const ordType = m.char(40);
    m.decimal(44);
    const px = m.mantissa;
    const pxExp = m.exponent;
    if ((i & 1) === 0) {
      const tif = m.char(59);
      const transact = m.timestamp(60);
      const out = encoder
        .start("D")
        .fields(clientHeader)
        .int(34, seq)
        .timestamp(52, sent)
        .string(11, clOrdId)
        .string(1, account)
        .string(55, symbol)
        .char(54, side)
        .timestamp(60, transact)
        .decimal(38, qty, 0)
        .char(40, ordType)
        .decimal(44, px, pxExp)
        .char(59, tif)
        .finish();
      sink += out.length;
    } else {
      const orderId = m.string(37)!;
      const execId = m.string(17)!;
      const execType = m.char(150);
      const status = m.char(39);
      m.decimal(32);
      const lastQty = m.mantissa;
      m.decimal(31);
      const lastPx = m.mantissa;
      const lastExp = m.exponent;
      m.decimal(151);
      const leaves = m.mantissa;
      m.decimal(14);
      const cum = m.mantissa;
      m.decimal(6);
      const avg = m.mantissa;
      const avgExp = m.exponent;
      const transact = m.timestamp(60);
      const out = encoder
        .start("8")
        .fields(venueHeader)
        .int(34, seq)
        .timestamp(52, sent)
        .string(37, orderId)
        .string(11, clOrdId)
        .string(17, execId)
        .char(150, execType)
        .char(39, status)
        .string(1, account)
        .string(55, symbol)
        .char(54, side)
        .decimal(38, qty, 0)
        .char(40, ordType)
        .decimal(44, px, pxExp)
        .decimal(32, lastQty, 0)
        .decimal(31, lastPx, lastExp)
        .decimal(151, leaves, 0)
        .decimal(14, cum, 0)
        .decimal(6, avg, avgExp)
        .timestamp(60, transact)
        .finish();
      sink += out.length;
    }
  }
  return n;
}

const foreign = await jspurefixCodec();
const types = ["D", "8"];
function theirs(n: number): number {
  for (let i = 0; i < n; i++) {
    const src = (i & 1) === 0 ? nosBytes : execBytes;
    const { StandardHeader: _h, StandardTrailer: _t, ...body } = foreign.parse(src);
    sink += foreign.encode(types[i & 1]!, body).length;
  }
  return n;
}

/**
 * Messages per second of `run` over `n` messages after a warm-up of a tenth: per second of
 * wall time, and per second of the process's CPU time (which moves far less with what
 * else runs on a shared machine).
 */
function rate(run: (n: number) => number, n: number): { wall: number; cpu: number } {
  run(Math.max(2, Math.floor(n / 10)) & ~1);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const done = run(n);
  const c1 = process.cpuUsage(c0);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { wall: Math.round(done / seconds), cpu: Math.round(done / ((c1.user + c1.system) / 1e6)) };
}

const loadBefore = loadavg()[0]!;
const mine = rate(ours, flags.messages & ~1);
const jsp = rate(theirs, flags.foreignMessages & ~1);
const loadAfter = loadavg()[0]!;
const latency = flags.venue > 0 ? await dTo8(flags.rate, flags.seconds) : undefined;
console.log(
  JSON.stringify({
    codecMsgsPerSec: mine.wall,
    jspurefixCodecMsgsPerSec: jsp.wall,
    codecMsgsPerCpuSec: mine.cpu,
    jspurefixCodecMsgsPerCpuSec: jsp.cpu,
    ratio: Math.round((mine.cpu / jsp.cpu) * 10) / 10,
    nosBytes: nosBytes.length,
    execBytes: execBytes.length,
    checksum: sink & 0xff,
    loadAvg1m: [Math.round(loadBefore * 100) / 100, Math.round(loadAfter * 100) / 100],
    ...latency,
  }),
);

/** D-to-8 at `rate` orders per second for `seconds` (after a second of warm-up), through the whole venue. */
async function dTo8(rate: number, seconds: number) {
  const venue = await startFixVenue("benchfix", [{ id: "bench", compId: "BENCH", account: "bench" }], {
    processes: true,
  });
  try {
    const client = await FixClient.connect(venue.gateway.fixPort);
    client.send("A", "98=0|108=30|141=Y", { sender: "BENCH" });
    await client.waitFor((f) => f[35] === "A");
    client.retain = false; // onMessage below sees every message; kept ones would only feed the client's GC
    const histogram = new Histogram();
    const sentAt = new Map<string, bigint>();
    let acked = 0;
    let rejected = 0;
    let businessRejects = 0;
    client.onMessage = (f) => {
      // OrderEntry did not answer in time (or refused the principal): the order is not acknowledged.
      if (f[35] === "j") businessRejects++;
      if (f[35] !== "8") return;
      const t0 = sentAt.get(f[11]!);
      if (t0 === undefined) return;
      sentAt.delete(f[11]!);
      // Warm-up orders ("w...") are answered too, but neither timed nor counted.
      if (f[11]!.startsWith("w")) return;
      if (f[150] === "8") rejected++;
      // In microseconds: the histogram holds up to 2^31 of its unit.
      histogram.record(Number(process.hrtime.bigint() - t0) / 1000);
      acked++;
    };
    const send = (id: string, i: number) => {
      // Resting orders on both sides that never cross: every order gets exactly its NEW.
      const buy = (i & 1) === 0;
      const px = buy ? 99000 - (i % 500) : 101000 + (i % 500);
      sentAt.set(id, process.hrtime.bigint());
      client.send("D", `11=${id}|55=INFY|54=${buy ? 1 : 2}|38=1|40=2|44=${(px / 100).toFixed(2)}|59=1`, {
        sender: "BENCH",
      });
    };
    const pace = async (prefix: string, count: number) => {
      const start = performance.now();
      for (let i = 0; i < count;) {
        const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
        while (i < due) send(`${prefix}${i}`, i++);
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    await pace("w", rate); // warm-up second
    const measured = rate * seconds;
    const t0 = performance.now();
    await pace("m", measured);
    const sendSeconds = (performance.now() - t0) / 1000;
    const deadline = Date.now() + 30_000;
    while (sentAt.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // No latency at all when no measured order was acknowledged: null, never 0.
    const ms = (us: number) => (histogram.total === 0 ? null : Math.round(us / 10) / 100);
    return {
      orders: measured,
      ratePerSec: Math.round(measured / sendSeconds),
      acked,
      rejected,
      businessRejects,
      unanswered: sentAt.size,
      p50Ms: ms(histogram.quantile(0.5)),
      p99Ms: ms(histogram.quantile(0.99)),
      maxMs: ms(histogram.max),
    };
  } finally {
    await venue.close();
  }
}
