// A minimal FIX client over TCP for tests: sends framed messages with its own sequence
// numbers and collects what it receives, parsed into field maps.
import { connect, type Socket } from "node:net";
import { FixParser, ParseStatus } from "../../src/domain/fix-parser.ts";
import { fieldsOf, fixTime, type Fields } from "./session-harness.ts";
import { frame } from "./fix-text.ts";

export class FixClient {
  seq: number;
  readonly received: Fields[] = [];
  closed = false;
  /** Called with each message as it arrives (benchmarks time them). */
  onMessage: ((f: Fields) => void) | undefined;
  /**
   * Keep every message in `received` (for waitFor). A benchmark turns it off once logged on:
   * tens of thousands of kept messages make the client's own garbage collections long enough
   * to show in the latencies it measures.
   */
  retain = true;
  private readonly socket: Socket;
  private readonly parser = new FixParser();
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(socket: Socket, seq: number) {
    this.socket = socket;
    this.seq = seq;
    socket.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      let start = 0;
      for (;;) {
        const s = this.parser.parse(this.buf, start, this.buf.length);
        if (s === ParseStatus.Incomplete) break;
        if (s === ParseStatus.Message) {
          const f = fieldsOf(this.parser.message.copy());
          if (this.retain) this.received.push(f);
          this.onMessage?.(f);
        }
        start = this.parser.next;
      }
      this.buf = this.buf.subarray(start);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static async connect(port: number, seq = 1): Promise<FixClient> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new FixClient(socket, seq);
  }

  /** Connects and logs on as `compId` (sequence reset, 30 s heartbeat), once the gateway has answered the Logon. */
  static async logon(port: number, compId: string): Promise<FixClient> {
    const c = await FixClient.connect(port);
    c.send("A", "98=0|108=30|141=Y", { sender: compId });
    await c.waitFor((f) => f[35] === "A");
    return c;
  }

  send(msgType: string, body = "", opts: { sender?: string; target?: string } = {}): void {
    const header = `35=${msgType}|49=${opts.sender ?? "CLIENT"}|56=${opts.target ?? "VENUE"}|34=${this.seq++}|52=${fixTime(Date.now())}`;
    this.socket.write(frame(body ? `${header}|${body}` : header));
  }

  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for a received message matching `pred` (searching from `from`); returns it. */
  async waitFor(pred: (f: Fields) => boolean, from = 0, timeoutMs = 10_000): Promise<Fields> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.slice(from).find(pred);
      if (hit) return hit;
      if (this.closed) throw new Error(`connection closed; received ${JSON.stringify(this.received)}`);
      if (Date.now() > deadline) throw new Error(`timed out; received ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("connection still open");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
