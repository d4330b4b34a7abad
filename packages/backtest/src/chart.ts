import type { SeriesPoint } from "./backtest.ts";

const W = 900;
const H = 260;
const PAD = 40;

function path(points: readonly SeriesPoint[], value: (p: SeriesPoint) => number, top: number): string {
  if (points.length === 0) return "";
  const t0 = points[0]!.timeMs;
  const t1 = Math.max(points[points.length - 1]!.timeMs, t0 + 1);
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, value(p));
    hi = Math.max(hi, value(p));
  }
  if (hi === lo) hi = lo + 1;
  const x = (t: number) => (PAD + ((t - t0) / (t1 - t0)) * (W - 2 * PAD)).toFixed(1);
  const y = (v: number) => (top + (1 - (v - lo) / (hi - lo)) * (H - 2 * PAD)).toFixed(1);
  return points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.timeMs)},${y(value(p))}`).join(" ");
}

/** P&L (minor units) and inventory (lots) over flow time, one panel each, as a standalone SVG for a browser. */
export function chartSvg(series: readonly SeriesPoint[], title: string): string {
  const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const range = (f: (p: SeriesPoint) => number) =>
    series.length === 0 ? "" : `${Math.min(...series.map(f))} .. ${Math.max(...series.map(f))}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${2 * H}" font-family="sans-serif" font-size="12">
<title>${esc(title)}</title>
<rect width="100%" height="100%" fill="white"/>
<text x="${PAD}" y="20">${esc(title)}: P&amp;L (${range((p) => p.equity)})</text>
<path d="${path(series, (p) => p.equity, PAD)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>
<text x="${PAD}" y="${H + 20}">inventory, lots (${range((p) => p.inventory)})</text>
<path d="${path(series, (p) => p.inventory, H + PAD)}" fill="none" stroke="#d62728" stroke-width="1.5"/>
</svg>
`;
}
