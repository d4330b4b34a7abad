/** Retries a request (a JetStream call during an election or a reconnect) until it succeeds or time runs out. */
export async function retry<T>(request: () => Promise<T>, timeoutMs = 30_000, pauseMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await request();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
