import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

/**
 * A CPU profile of one section of a benchmark (the timed part only, not the set-up), written
 * to the file named by TP_BENCH_PROFILE; a no-op without it. Summarise the file with
 * `node bench/lib/cpuprofile-top.ts FILE`.
 */
export async function profileSection<T>(run: () => Promise<T>): Promise<T> {
  const file = process.env.TP_BENCH_PROFILE;
  if (file === undefined || file === "") return run();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  try {
    return await run();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}
