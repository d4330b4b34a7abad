import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Reads a V8 .cpuprofile (or, with `extension`, another JSON profile such as a .heapprofile)
 * given as a file or as a directory (the newest profile in it, as `--cpu-prof-dir` leaves
 * them). Throws `usage` when no path is given.
 */
export function readCpuProfile<P>(
  path: string | undefined,
  usage: string,
  extension = ".cpuprofile",
): { path: string; profile: P } {
  if (path === undefined) throw new Error(`usage: ${usage}`);
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path)
      .filter((f) => f.endsWith(extension))
      .sort();
    if (files.length === 0) throw new Error(`no ${extension} in ${path}`);
    path = join(path, files[files.length - 1]!);
  }
  return { path, profile: JSON.parse(readFileSync(path, "utf8")) as P };
}
