// A subscriber in its own process, so a test can stop it (SIGSTOP) and make it a truly slow
// consumer: it prints "open" on its first update, and its final status as one JSON line.
import { credentials } from "@grpc/grpc-js";
import { BarInterval, MarketDataChannel, MarketDataClient } from "@tradeplane/contracts";

const [port, ...instruments] = process.argv.slice(2);
const client = new MarketDataClient(`127.0.0.1:${port}`, credentials.createInsecure());
const call = client.subscribe({
  instruments,
  channels: [MarketDataChannel.L3, MarketDataChannel.TRADES, MarketDataChannel.L2],
  depth: 500,
  conflationIntervalMs: 0,
  barInterval: BarInterval.UNSPECIFIED,
  fromSequence: undefined,
});
let opened = false;
call.on("data", () => {
  if (!opened) process.stdout.write("open\n");
  opened = true;
});
call.on("error", (err: { code: number; details: string }) => {
  process.stdout.write(JSON.stringify({ code: err.code, details: err.details }) + "\n");
  process.exit(0);
});
call.on("end", () => {
  process.stdout.write(JSON.stringify({ code: 0, details: "end" }) + "\n");
  process.exit(0);
});
