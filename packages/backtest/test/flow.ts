import { prng } from "@tradeplane/testkit";

/** A small workload of the shared format: limits around 100000, some markets, cancels and replaces. */
export function workload(lines: number, seed: number): string {
  const rnd = prng(seed);
  const out: string[] = [];
  let id = 0;
  for (let i = 0; i < lines; i++) {
    const r = rnd();
    if (r < 0.7 || id === 0) {
      id++;
      const side = rnd() < 0.5 ? "B" : "S";
      const market = rnd() < 0.05;
      const price = side === "B" ? 99_990 + Math.floor(rnd() * 15) : 99_996 + Math.floor(rnd() * 15);
      out.push(`N,${id},${side},${market ? "M" : "L"},${market ? 0 : price},${1 + Math.floor(rnd() * 50)}`);
    } else if (r < 0.9) out.push(`C,${1 + Math.floor(rnd() * id)}`);
    else out.push(`R,${1 + Math.floor(rnd() * id)},${99_990 + Math.floor(rnd() * 20)},${1 + Math.floor(rnd() * 50)}`);
  }
  return out.join("\n") + "\n";
}
