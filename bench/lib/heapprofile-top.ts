/**
 * Summarises a V8 sampling heap profile (`.heapprofile`, as services write it with
 * `TP_ALLOCATION_PROFILE_DIR`): bytes per allocating function, then the heaviest allocation
 * stacks, each cut to the frames of this repository (node_modules and node internals
 * folded into the frame that called them) so that the site in our code shows.
 *
 *   node bench/lib/heapprofile-top.ts PROFILE_OR_DIR [--top 20] [--depth 6]
 *
 * A profile written with `TP_ALLOCATION_PROFILE_SURVIVORS=1` holds only what outlived a
 * scavenge: the objects that make scavenges slow.
 */
import { readCpuProfile } from "./cpuprofile-file.ts";

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const args = process.argv.slice(2);
const usage = "heapprofile-top.ts PROFILE_OR_DIR [--top N] [--depth N]";
const { path, profile } = readCpuProfile<{ head: Node }>(args[0], usage, ".heapprofile");
const flag = (name: string, fallback: number): number =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) || fallback : fallback;
const top = flag("--top", 20);
const depth = flag("--depth", 6);

const frameName = (n: Node): string => {
  const f = n.callFrame;
  return `${f.functionName || "(anonymous)"} ${f.url.split("/").pop() ?? ""}:${f.lineNumber + 1}`;
};
const ours = (n: Node): boolean => {
  const url = n.callFrame.url;
  return url !== "" && !url.startsWith("node:") && !url.includes("/node_modules/");
};

const perFunction = new Map<string, number>();
const perStack = new Map<string, number>();
let total = 0;
const walk = (n: Node, stack: Node[]): void => {
  stack.push(n);
  if (n.selfSize > 0) {
    total += n.selfSize;
    const fn = frameName(n);
    perFunction.set(fn, (perFunction.get(fn) ?? 0) + n.selfSize);
    // The allocating frame, then the innermost frames of our code that led to it.
    const frames = [fn];
    for (let i = stack.length - 2; i >= 0 && frames.length < depth; i--)
      if (ours(stack[i]!)) frames.push(frameName(stack[i]!));
    const key = frames.join(" < ");
    perStack.set(key, (perStack.get(key) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, stack);
  stack.pop();
};
walk(profile.head, []);

const mb = (b: number): string => (b / 1e6).toFixed(1).padStart(8);
const pct = (b: number): string => ((100 * b) / total).toFixed(1).padStart(5);
const print = (title: string, m: Map<string, number>): void => {
  console.log(title);
  for (const [k, b] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${mb(b)} MB ${pct(b)}%  ${k}`);
};
console.log(`${path}: ${(total / 1e6).toFixed(1)} MB sampled`);
print("by allocating function:", perFunction);
print("by stack (allocating frame < callers in this repository):", perStack);
