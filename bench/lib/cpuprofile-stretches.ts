/**
 * The longest busy stretches of a V8 .cpuprofile (from `node --cpu-prof`): runs of samples
 * with no idle sample between them, i.e. how long the event loop was held, and what ran in
 * each (self time per function, or per innermost frames of this repository's code). This
 * is what a tail latency is made of; self time per function (cpuprofile-top.ts) is not.
 *
 *   node bench/lib/cpuprofile-stretches.ts PROFILE_OR_DIR [--top 6] [--skip-first-ms 3000]
 *
 * `--skip-first-ms` leaves out the start-up (module loading, compilation). Sample timing
 * is the profiler's: with `--cpu-prof-interval=200` (microseconds) stretches are sharper.
 */
import { readCpuProfile } from "./cpuprofile-file.ts";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
const { path, profile: p } = readCpuProfile<Profile>(
  args[0],
  "cpuprofile-stretches.ts PROFILE_OR_DIR [--top N] [--skip-first-ms MS]",
);
const top = flag("--top", 6);
const skipUs = flag("--skip-first-ms", 3_000) * 1_000;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** What a sample was doing: the innermost frames of our code, else the function itself. */
function labelOf(id: number): string {
  const ours: string[] = [];
  for (let n: number | undefined = id; n !== undefined && ours.length < 2; n = parent.get(n)) {
    const f = byId.get(n)!.callFrame;
    if (/\/(services|packages)\//.test(f.url) && !f.url.includes("/gen/"))
      ours.push(`${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`);
  }
  const own = byId.get(id)!.callFrame.functionName || "(anonymous)";
  return ours.length === 0 ? own : `${own} in ${ours.join(" < ")}`;
}

interface Stretch {
  startUs: number;
  endUs: number;
  labels: Map<string, number>;
}
const stretches: Stretch[] = [];
let t = 0;
let current: Stretch | undefined;
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i] ?? 0;
  t += dt;
  const id = p.samples[i]!;
  if (byId.get(id)!.callFrame.functionName === "(idle)") {
    if (current !== undefined) {
      current.endUs = t - dt;
      stretches.push(current);
      current = undefined;
    }
    continue;
  }
  if (t < skipUs) continue;
  current ??= { startUs: t - dt, endUs: t, labels: new Map() };
  const label = labelOf(id);
  current.labels.set(label, (current.labels.get(label) ?? 0) + dt);
}
if (current !== undefined) {
  current.endUs = t;
  stretches.push(current);
}
stretches.sort((a, b) => b.endUs - b.startUs - (a.endUs - a.startUs));
console.log(`${path}: ${stretches.length} busy stretches after the first ${skipUs / 1_000} ms`);
for (const s of stretches.slice(0, top)) {
  console.log(`${((s.endUs - s.startUs) / 1_000).toFixed(1)} ms busy, at ${(s.startUs / 1e6).toFixed(2)} s:`);
  for (const [label, us] of [...s.labels].sort((a, b) => b[1] - a[1]).slice(0, 4))
    console.log(`  ${(us / 1_000).toFixed(1).padStart(7)} ms  ${label}`);
}
