import { readFileSync } from "node:fs";

/**
 * The CPUs this process may run on, as the kernel lists them in `Cpus_allowed_list` of
 * /proc/self/status ("0-3,8"). A kubelet with the static CPU manager narrows the set to the
 * engine's exclusive cores; an unpinned pod sees the node's shared pool. Undefined where
 * /proc has no such line (not Linux).
 */
export function allowedCpus(status: string = readProcStatus()): number[] | undefined {
  const line = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(status);
  if (line === null) return undefined;
  return parseCpuList(line[1]!);
}

/** "0-2,5" -> [0, 1, 2, 5]; a malformed part is left out rather than guessed. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.split(",")) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (range === null) continue;
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    for (let cpu = from; cpu <= to && cpu - from < 4096; cpu++) cpus.push(cpu);
  }
  return cpus;
}

function readProcStatus(): string {
  try {
    return readFileSync("/proc/self/status", "utf8");
  } catch {
    return "";
  }
}
