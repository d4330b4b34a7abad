import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

/**
 * A diagnostic for garbage-collector pauses: V8's sampling heap profiler, counting objects the
 * collector has already freed too, so the profile shows where a process allocates (what sets
 * how often it scavenges), not only what it still holds. Node's `--heap-prof` keeps only what
 * is alive at exit. Started when `TP_ALLOCATION_PROFILE_DIR` is set; the profile is written
 * there at shutdown as `<service>-<pid>.heapprofile` (open it in Chrome DevTools, Memory tab,
 * or summarise it with bench/lib/heapprofile-top.ts).
 *
 * With `survivors` (`TP_ALLOCATION_PROFILE_SURVIVORS=1`) objects freed by a scavenge are left
 * out: the profile shows what outlived the young generation, which is what a scavenge
 * copies and what makes its pauses long.
 */
export async function startAllocationProfile(
  service: string,
  dir: string | undefined = process.env.TP_ALLOCATION_PROFILE_DIR,
  survivors: boolean = process.env.TP_ALLOCATION_PROFILE_SURVIVORS === "1",
): Promise<(() => Promise<void>) | undefined> {
  if (dir === undefined || dir === "") return undefined;
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 32_768,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: !survivors,
  });
  return async () => {
    const { profile } = await session.post("HeapProfiler.stopSampling");
    writeFileSync(join(dir, `${service}-${process.pid}.heapprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}
