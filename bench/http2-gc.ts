// What one unary call leaves for the garbage collector, with nothing of Tradeplane in it: an
// echo server (grpc-js, or node:http2 answering with gRPC framing by hand) in a child process
// run with --trace-gc-nvp, called over loopback by a grpc-js client in this process at a fixed
// rate. Prints, per call, the bytes the server allocated and the bytes its scavenges promoted
// to the old generation, and the server's CPU per call: the floor under the gateway's own
// figures (bench:e2e), measured on the same machine.
//   npm run -s bench:http2-gc -- [--rate 2000] [--seconds 10] [--raw 0|1]
// Last line: {"server":"grpc-js"|"node:http2","rate":R,"calls":N,"allocatedBytesPerCall":A,
//   "promotedBytesPerCall":P,"scavenges":S,"scavengeMeanMs":M,"serverCpuUsPerCall":C}
import { spawn } from "node:child_process";
import { createServer, type ServerHttp2Stream } from "node:http2";
import { fileURLToPath } from "node:url";
import {
  Client,
  credentials,
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
} from "@grpc/grpc-js";
import { cpuSecondsOf } from "./lib/cpu-time.ts";
import { numericFlags } from "./support/venue.ts";

const METHOD = "/bench.Echo/Echo";
const same = (b: Buffer): Buffer => b;

if (process.argv[2] === "--server") runServer(process.argv[3] === "raw");
else await runClient();

/** The echo server: answers each call on the next turn, as a handler that awaits would. */
function runServer(raw: boolean): void {
  const ready = (port: number): void => void process.stdout.write(`ready ${port}\n`);
  if (raw) {
    const server = createServer();
    server.on("stream", (stream: ServerHttp2Stream) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () =>
        setImmediate(() => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.end(Buffer.concat(chunks));
        }),
      );
    });
    server.listen(0, "127.0.0.1", () => ready((server.address() as { port: number }).port));
    return;
  }
  const server = new Server({ "grpc.enable_channelz": 0 });
  server.addService(
    {
      Echo: {
        path: METHOD,
        requestStream: false,
        responseStream: false,
        requestSerialize: same,
        requestDeserialize: same,
        responseSerialize: same,
        responseDeserialize: same,
      },
    },
    {
      Echo: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
        setImmediate(() => callback(null, call.request)),
    },
  );
  server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    ready(port);
  });
}

async function runClient(): Promise<void> {
  const flags = numericFlags({ rate: 2_000, seconds: 10, raw: 0 });
  const child = spawn(
    process.execPath,
    ["--trace-gc-nvp", fileURLToPath(import.meta.url), "--server", flags.raw ? "raw" : "grpc"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const m = /^ready (\d+)$/m.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`echo server exited (${code})`)));
  });
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const payload = Buffer.alloc(120, 7);
  const call = (): Promise<void> =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(METHOD, same, same, payload, (err) => (err ? reject(err) : resolve())),
    );
  // One second of warm-up (JIT, connection), not counted.
  for (let i = 0; i < flags.rate; i++) await call();
  const gcFrom = output.length;
  const cpuFrom = cpuSecondsOf(child.pid);
  const total = flags.rate * flags.seconds;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let sent = 0; sent < total;) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * flags.rate) / 1_000));
    while (sent < due) {
      pending.push(call());
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const cpu = cpuSecondsOf(child.pid) - cpuFrom;
  client.close();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  const scavenges = output
    .slice(gcFrom)
    .split("\n")
    .filter((line) => line.includes(" gc=s "))
    .map((line) => {
      const field = (name: string): number => Number(new RegExp(` ${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
      return { pause: field("pause"), allocated: field("allocated"), promoted: field("promoted") };
    });
  const sum = (k: "pause" | "allocated" | "promoted"): number => scavenges.reduce((s, x) => s + x[k], 0);
  console.log(
    JSON.stringify({
      server: flags.raw ? "node:http2" : "grpc-js",
      rate: flags.rate,
      calls: total,
      allocatedBytesPerCall: Math.round(sum("allocated") / total),
      promotedBytesPerCall: Math.round(sum("promoted") / total),
      scavenges: scavenges.length,
      scavengeMeanMs: Number((sum("pause") / Math.max(1, scavenges.length)).toFixed(2)),
      serverCpuUsPerCall: Math.round((cpu * 1e6) / total),
    }),
  );
}
