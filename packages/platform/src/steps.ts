/**
 * Runs work written as a generator of steps (a snapshot serialised a few milliseconds at a
 * time) to its end, giving the event loop a turn between two steps, so the service goes on
 * with its messages and requests while it runs.
 */
export async function runInSteps<R>(steps: Generator<void, R, void>): Promise<R> {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
