/**
 * Where a V8 heap snapshot's memory is held (`.heapsnapshot`, as `--heapsnapshot-signal` or
 * `v8.writeHeapSnapshot()` write it): bytes by class (self size), the classes that retain
 * the most (retained size over the dominator tree, each object counted once under the
 * outermost object of its class), and the heaviest single objects with their owners.
 *
 *   node bench/lib/heapsnapshot-top.ts SNAPSHOT_OR_DIR [--top 25]
 *
 * The file is read as bytes and its number arrays parsed by hand: a snapshot of a few
 * hundred MB of heap is longer than the longest string V8 can JSON.parse.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
let path = args[0];
if (path === undefined) throw new Error("usage: heapsnapshot-top.ts SNAPSHOT_OR_DIR [--top N]");
if (statSync(path).isDirectory()) {
  const files = readdirSync(path)
    .filter((f) => f.endsWith(".heapsnapshot"))
    .sort();
  if (files.length === 0) throw new Error(`no .heapsnapshot in ${path}`);
  path = join(path, files[files.length - 1]!);
}
const top = args.includes("--top") ? Number(args[args.indexOf("--top") + 1]) || 25 : 25;

const bytes = readFileSync(path);
const at = (key: string): number => {
  const i = bytes.indexOf(`"${key}":`);
  if (i < 0) throw new Error(`no "${key}" in ${path}`);
  return i + key.length + 3;
};
/** The unsigned integers of the JSON array starting at byte `from` (its '['). */
const numbers = (from: number): Uint32Array => {
  let out = new Uint32Array(1 << 20);
  let n = 0;
  let value = 0;
  let inNumber = false;
  for (let i = from + 1; ; i++) {
    const c = bytes[i]!;
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      inNumber = true;
      continue;
    }
    if (inNumber) {
      if (n === out.length) {
        const grown = new Uint32Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      out[n++] = value;
      value = 0;
      inNumber = false;
    }
    if (c === 93) return out.subarray(0, n);
  }
};

const metaStart = at("snapshot");
const meta = (
  JSON.parse(bytes.subarray(metaStart, bytes.indexOf(`"nodes":`)).toString("utf8").replace(/,\s*$/, "")) as {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  }
).meta;
const nodes = numbers(at("nodes"));
const edges = numbers(at("edges"));
const stringsStart = at("strings");
const strings = JSON.parse(bytes.subarray(stringsStart, bytes.lastIndexOf("]") + 1).toString("utf8")) as string[];

const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const [nType, nName, nSize, nEdges] = ["type", "name", "self_size", "edge_count"].map((f) =>
  meta.node_fields.indexOf(f),
) as [number, number, number, number];
const [eType, eName, eTo] = ["type", "name_or_index", "to_node"].map((f) => meta.edge_fields.indexOf(f)) as [
  number,
  number,
  number,
];
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const WEAK = edgeTypes.indexOf("weak");
const count = nodes.length / NF;

const firstEdge = new Uint32Array(count + 1);
for (let i = 0, e = 0; i < count; i++) {
  firstEdge[i] = e;
  e += nodes[i * NF + nEdges]! * EF;
  firstEdge[i + 1] = e;
}
const selfSize = (i: number): number => nodes[i * NF + nSize]!;
const classOf = (i: number): string => {
  const type = nodeTypes[nodes[i * NF + nType]!]!;
  const name = strings[nodes[i * NF + nName]!]!;
  if (type === "object" || type === "closure") return type === "closure" ? `${name || "(anonymous)"}()` : name;
  if (type === "native") return `native ${name.slice(0, 40)}`;
  return `(${type})`;
};

// Reverse postorder from the root over strong edges, then Cooper-Harvey-Kennedy dominators.
const order = new Int32Array(count).fill(-1);
const post: number[] = [];
{
  const stack = [0];
  const next = new Uint32Array(count);
  order[0] = 0;
  for (let i = 0; i < count; i++) next[i] = firstEdge[i]!;
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    let pushed = false;
    while (next[v]! < firstEdge[v + 1]!) {
      const e = next[v]!;
      next[v] = e + EF;
      if (edges[e + eType] === WEAK) continue;
      const w = edges[e + eTo]! / NF;
      if (order[w] !== -1) continue;
      order[w] = 0;
      stack.push(w);
      pushed = true;
      break;
    }
    if (!pushed) post.push(stack.pop()!);
  }
}
const rank = new Int32Array(count).fill(-1);
post.forEach((v, i) => (rank[v] = i));
const predStart = new Uint32Array(count + 1);
for (let e = 0; e < edges.length; e += EF) if (edges[e + eType] !== WEAK) predStart[edges[e + eTo]! / NF + 1]!++;
for (let i = 0; i < count; i++) predStart[i + 1]! += predStart[i]!;
const preds = new Uint32Array(predStart[count]!);
{
  const fill = predStart.slice(0, count);
  for (let v = 0; v < count; v++)
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += EF)
      if (edges[e + eType] !== WEAK) preds[fill[edges[e + eTo]! / NF]!++] = v;
}
const idom = new Int32Array(count).fill(-1);
idom[0] = 0;
const intersect = (a: number, b: number): number => {
  while (a !== b) {
    while (rank[a]! < rank[b]!) a = idom[a]!;
    while (rank[b]! < rank[a]!) b = idom[b]!;
  }
  return a;
};
for (let changed = true; changed;) {
  changed = false;
  for (let k = post.length - 2; k >= 0; k--) {
    const v = post[k]!;
    let d = -1;
    for (let p = predStart[v]!; p < predStart[v + 1]!; p++) {
      const u = preds[p]!;
      if (idom[u] === -1 || rank[u] === -1) continue;
      d = d === -1 ? u : intersect(u, d);
    }
    if (d !== -1 && idom[v] !== d) {
      idom[v] = d;
      changed = true;
    }
  }
}
const retained = new Float64Array(count);
for (const v of post) {
  retained[v]! += selfSize(v);
  if (v !== 0) retained[idom[v]!]! += retained[v]!;
}

const mb = (b: number): string => (b / 2 ** 20).toFixed(1).padStart(8);
const total = retained[0]!;
const bySelf = new Map<string, { bytes: number; n: number }>();
const byRetained = new Map<string, { bytes: number; n: number }>();
for (const v of post) {
  const c = classOf(v);
  const s = bySelf.get(c) ?? { bytes: 0, n: 0 };
  s.bytes += selfSize(v);
  s.n++;
  bySelf.set(c, s);
  // Counted under the outermost object of its class on its dominator chain only.
  let outer = true;
  for (let d = idom[v]!; d !== 0; d = idom[d]!) if (classOf(d) === c) outer = false;
  if (!outer || v === 0) continue;
  const r = byRetained.get(c) ?? { bytes: 0, n: 0 };
  r.bytes += retained[v]!;
  r.n++;
  byRetained.set(c, r);
}
const print = (title: string, m: Map<string, { bytes: number; n: number }>): void => {
  console.log(`\n${title}\n      MB  objects  class`);
  for (const [c, { bytes: b, n }] of [...m].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top))
    console.log(`${mb(b)} ${String(n).padStart(8)}  ${c}`);
};
console.log(`${path}: ${count} nodes, ${mb(total).trim()} MB reachable`);
print("self size by class", bySelf);
print("retained size by class (outermost of each class)", byRetained);

// The heaviest objects that are not mostly one child, with their dominator chains.
/** How `from` refers to `to` directly, when it does: a property name or an element index. */
const edgeName = (from: number, to: number): string => {
  for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += EF)
    if (edges[e + eTo]! / NF === to) {
      const type = edgeTypes[edges[e + eType]!];
      return type === "element" || type === "hidden" ? `[${edges[e + eName]}]` : `.${strings[edges[e + eName]!]}`;
    }
  return "";
};
const owners = (v: number): string => {
  const chain: string[] = [];
  for (let c = v, d = idom[v]!; d !== 0 && chain.length < 6; c = d, d = idom[d]!)
    chain.push(`${classOf(d)}${edgeName(d, c)}`);
  return chain.join(" < ");
};
console.log(`\nheaviest objects (retained MB, class, owners)`);
const heavy = post.filter((v) => v !== 0 && retained[v]! > total / 200).sort((a, b) => retained[b]! - retained[a]!);
for (const v of heavy.slice(0, top * 2)) console.log(`${mb(retained[v]!)}  ${classOf(v)}  <  ${owners(v)}`);
