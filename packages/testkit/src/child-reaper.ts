import type { ChildProcess } from "node:child_process";

const children = new Set<ChildProcess>();
let hooked = false;

/**
 * Kills `child` when this process exits, however the exit comes (a benchmark whose service
 * failed to start, a test file that threw before its afterAll): a nats-server or service left
 * running would load the two cores of every later run.
 */
export function reapOnExit(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const c of children) c.kill("SIGKILL");
    });
  }
  children.add(child);
  child.once("exit", () => children.delete(child));
}
