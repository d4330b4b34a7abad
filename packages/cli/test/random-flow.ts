import { prng } from "@tradeplane/testkit";

/**
 * A flow of the shared workload format (`N,id,side,L,price,qty` and `C,id`): `orders` limit
 * orders around 100000, bids and offers overlapping so that they trade, and a cancel of an
 * earlier order after about three in ten. The same seed gives the same flow.
 */
export function randomFlow(orders: number, seed: number): string {
  const rnd = prng(seed);
  const lines: string[] = [];
  for (let id = 1; id <= orders; id++) {
    const side = rnd() < 0.5 ? "B" : "S";
    const price = side === "B" ? 99_990 + Math.floor(rnd() * 15) : 99_996 + Math.floor(rnd() * 15);
    lines.push(`N,${id},${side},L,${price},${1 + Math.floor(rnd() * 40)}`);
    if (rnd() < 0.3) lines.push(`C,${1 + Math.floor(rnd() * id)}`);
  }
  return lines.join("\n") + "\n";
}
