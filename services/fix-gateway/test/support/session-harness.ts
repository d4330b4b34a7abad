// Drives one FixSession as a client would: messages framed from text, every action
// performed the way the adapter does (store, resend from the store), what the session
// sent kept as field maps.
import { FixParser, ParseStatus } from "../../src/domain/fix-parser.ts";
import { writeUtcTimestamp } from "../../src/domain/fix-time.ts";
import {
  DEFAULT_SESSION_SETTINGS,
  FixSession,
  type SessionAction,
  type SessionEnd,
  type SessionSettings,
} from "../../src/domain/session.ts";
import { frame } from "./fix-text.ts";

export const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

export function fixTime(ms: number): string {
  const b = Buffer.alloc(21);
  writeUtcTimestamp(b, 0, ms);
  return b.toString("latin1");
}

/** A sent message's fields as tag -> value (the first of repeated tags). */
export type Fields = Record<number, string>;

export function fieldsOf(bytes: Uint8Array): Fields {
  const out: Fields = {};
  for (const f of Buffer.from(bytes).toString("latin1").split("\x01")) {
    const eq = f.indexOf("=");
    if (eq > 0 && !(Number(f.slice(0, eq)) in out)) out[Number(f.slice(0, eq))] = f.slice(eq + 1);
  }
  return out;
}

export class SessionHarness {
  now = T0;
  clientSeq = 1;
  readonly session: FixSession;
  readonly store = new Map<number, Buffer>();
  sent: Fields[] = [];
  applications: string[] = [];
  disconnected: string | undefined;
  /** The code of the disconnect (its metric label). */
  ended: SessionEnd | undefined;
  private readonly parser = new FixParser();

  constructor(settings: Partial<SessionSettings> = {}, sequences = { nextSenderSeq: 1, nextTargetSeq: 1 }) {
    this.session = new FixSession(
      { ...DEFAULT_SESSION_SETTINGS, senderCompId: "VENUE", targetCompId: "CLIENT", ...settings },
      sequences,
      this.now,
    );
  }

  /** Sends raw bytes as the client; returns what the session sent in answer. */
  bytes(bytes: Buffer): Fields[] {
    const before = this.sent.length;
    let start = 0;
    for (;;) {
      const s = this.parser.parse(bytes, start, bytes.length);
      if (s === ParseStatus.Incomplete) break;
      if (s === ParseStatus.Garbled) this.perform(this.session.garbled());
      else this.perform(this.session.receive(this.parser, this.now));
      start = this.parser.next;
    }
    return this.sent.slice(before);
  }

  /**
   * Sends one message as the client: `body` after the standard header. Options override
   * the MsgSeqNum (else the next), the SendingTime, and add header fields.
   */
  send(
    msgType: string,
    body = "",
    opts: { seq?: number; sendingTime?: number; header?: string; sender?: string } = {},
  ): Fields[] {
    const seq = opts.seq ?? this.clientSeq;
    if (opts.seq === undefined || opts.seq >= this.clientSeq) this.clientSeq = seq + 1;
    const header = `35=${msgType}|49=${opts.sender ?? "CLIENT"}|56=VENUE|34=${seq}|52=${fixTime(opts.sendingTime ?? this.now)}${opts.header ? `|${opts.header}` : ""}`;
    return this.bytes(frame(body ? `${header}|${body}` : header));
  }

  logon(extra = "", opts: { seq?: number } = {}): Fields[] {
    return this.send("A", `98=0|108=30${extra ? `|${extra}` : ""}`, opts);
  }

  /** The venue sends an application message (an ExecutionReport with this ClOrdID). */
  venueSends(clOrdId: string): void {
    this.perform(this.session.send("8", this.now, (e) => e.string(11, clOrdId).char(150, 0x30).char(39, 0x30)));
  }

  /** `peerUnread`: the adapter is not reading the connection (its socket paused for flow control). */
  tick(ms: number, peerUnread = false): Fields[] {
    const before = this.sent.length;
    this.now += ms;
    this.perform(this.session.tick(this.now, peerUnread));
    return this.sent.slice(before);
  }

  private perform(actions: readonly SessionAction[]): void {
    for (const a of [...actions]) {
      switch (a.type) {
        case "send":
          this.sent.push(fieldsOf(a.bytes));
          break;
        case "store":
          this.store.set(a.seq, Buffer.from(a.bytes));
          break;
        case "reset":
          this.store.clear();
          break;
        case "resend":
          this.perform(this.session.resend(a.from, a.to, this.store, this.now));
          break;
        case "application":
          this.applications.push(a.message.msgType);
          break;
        case "disconnect":
          this.disconnected = a.reason;
          this.ended = a.end;
          break;
      }
    }
  }
}
