/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, and with
 * `--lines FILE` the hottest source lines of that file (from the profile's position ticks).
 *
 *   node bench/lib/cpuprofile-top.ts PROFILE_OR_DIR [--top 20] [--lines engine.ts]
 *
 * For a flame graph, open the same file in Chrome DevTools (Performance > Load profile) or
 * https://www.speedscope.app.
 */
import { readCpuProfile } from "./cpuprofile-file.ts";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  positionTicks?: { line: number; ticks: number }[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const { path, profile: p } = readCpuProfile<Profile>(
  args[0],
  "cpuprofile-top.ts PROFILE_OR_DIR [--top N] [--lines FILE]",
);
const top = Number(args[args.indexOf("--top") + 1] ?? 20) || 20;
const linesOf = args.includes("--lines") ? args[args.indexOf("--lines") + 1] : undefined;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const perFn = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const f = byId.get(id)!.callFrame;
  const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop() ?? ""}:${f.lineNumber + 1}`;
  perFn.set(key, (perFn.get(key) ?? 0) + us);
  total += us;
}
console.log(`${path}: ${(total / 1000).toFixed(0)} ms sampled`);
for (const [k, us] of [...perFn].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
if (linesOf !== undefined) {
  const ticks = new Map<number, number>();
  for (const n of p.nodes)
    if (n.callFrame.url.endsWith(linesOf))
      for (const t of n.positionTicks ?? []) ticks.set(t.line, (ticks.get(t.line) ?? 0) + t.ticks);
  console.log(
    `\nhottest lines of ${linesOf} (samples; inlined callees are reported at their own file's line numbers):`,
  );
  for (const [line, n] of [...ticks].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${String(n).padStart(7)}  line ${line}`);
}
