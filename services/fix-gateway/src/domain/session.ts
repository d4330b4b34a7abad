// The FIX 4.4 session layer of one acceptor session, as a pure state machine: messages and
// clock ticks in (time is the caller's), actions out (bytes to send, messages to store, an
// application message to hand on, a resend to serve from the store, a disconnect). The
// adapter performs the actions in order; nothing here does I/O or reads a clock.

import { encodeFields, FixEncoder, type EncodedFields } from "./fix-encoder.ts";
import type { FixMessage } from "./fix-message.ts";
import { FixParser, ParseStatus } from "./fix-parser.ts";
import { isAdminMsgType, MsgType, SessionRejectReason, Tag } from "./fix-tags.ts";

export interface SessionSettings {
  /** Our CompID (the venue's): the client's TargetCompID. */
  readonly senderCompId: string;
  /** The client's CompID: its SenderCompID. */
  readonly targetCompId: string;
  /** Largest difference between a message's SendingTime and our clock, in ms. */
  readonly maxSendingTimeSkewMs: number;
  /** HeartBtInt a Logon may ask for, in seconds. */
  readonly minHeartBtIntSeconds: number;
  readonly maxHeartBtIntSeconds: number;
  /** How long to wait for a Logon after connecting, and for the Logout answer, in ms. */
  readonly logonTimeoutMs: number;
  readonly logoutTimeoutMs: number;
  /** Application messages per second the client may send (a burst of as many). 0 = no limit. */
  readonly maxMessagesPerSecond: number;
  /** When set, a Logon must carry it in Password (554). */
  readonly password?: string;
}

export const DEFAULT_SESSION_SETTINGS = {
  maxSendingTimeSkewMs: 120_000,
  minHeartBtIntSeconds: 1,
  maxHeartBtIntSeconds: 300,
  logonTimeoutMs: 10_000,
  logoutTimeoutMs: 2_000,
  maxMessagesPerSecond: 0,
} as const;

/** Sequence numbers that survive a restart (the store keeps them). */
export interface SessionSequences {
  /** MsgSeqNum of our next message. */
  nextSenderSeq: number;
  /** MsgSeqNum we expect of the client's next message. */
  nextTargetSeq: number;
}

export type SessionAction =
  /** Write these bytes to the connection. */
  | { readonly type: "send"; readonly bytes: Buffer }
  /** Keep this sent message under its MsgSeqNum for resends. */
  | { readonly type: "store"; readonly seq: number; readonly bytes: Buffer }
  /** The sequence numbers changed: persist them. */
  | { readonly type: "sequences"; readonly sequences: Readonly<SessionSequences> }
  /** A ResetSeqNumFlag Logon: forget every stored message. */
  | { readonly type: "reset" }
  /** Serve a ResendRequest: call resend() with the stored messages from..to. */
  | { readonly type: "resend"; readonly from: number; readonly to: number }
  /** An application message, valid until the next call: hand it on now. */
  | { readonly type: "application"; readonly message: FixMessage }
  /** Logged on (the application may start); `reset` when the Logon reset the sequences. */
  | { readonly type: "loggedOn"; readonly heartBtIntSeconds: number }
  /** Counted for metrics: a session-level Reject we sent, with its reason. */
  | { readonly type: "rejected"; readonly reason: number; readonly text: string }
  /** Close the connection: `reason` for the log (free text), `end` for metrics (a fixed code). */
  | { readonly type: "disconnect"; readonly reason: string; readonly end: SessionEnd };

/**
 * Why a FIX connection ended, as a fixed set of codes (a metric label; the log line
 * "FIX session ending" has the words). The session layer decides most; the acceptor adds what
 * happens before a Logon binds a session, and to the socket and the store. A Logout of the
 * gateway's ends the connection with its cause, answered or not.
 */
export const SessionEnd = {
  /** The client sent Logout (or answered the gateway's with one). */
  ClientLogout: "client_logout",
  /** The client stopped sending: a TestRequest went unanswered. */
  HeartbeatTimeout: "heartbeat_timeout",
  /** No Logon came in time after the connection opened. */
  LogonTimeout: "logon_timeout",
  /** A Logon the session refused (HeartBtInt, EncryptMethod, password, SendingTime, reset), or a first message not a Logon. */
  LogonRefused: "logon_refused",
  /** MsgSeqNum lower than expected without PossDupFlag (at Logon or after). */
  SeqTooLow: "seq_too_low",
  /** A message that breaks the session: wrong BeginString or CompIDs, no MsgSeqNum, a second Logon. */
  InvalidMessage: "invalid_message",
  /** SendingTime (or OrigSendingTime) too far off. */
  SendingTime: "sending_time",
  /** The gateway is stopping (its Logout, answered or not). */
  ServerStop: "server_stop",
  /** The Logon named CompIDs of no configured session. */
  UnknownSession: "unknown_session",
  /** The Logon's credentials (password or client certificate) were wrong. */
  BadCredentials: "bad_credentials",
  /** The session is logged on from another connection (or its last one is still closing). */
  DuplicateSession: "duplicate_session",
  /** The session's state could not be loaded or stored. */
  StoreFailure: "store_failure",
  /** The socket failed (an error, e.g. a reset). */
  SocketError: "socket_error",
  /** The client closed the connection without a Logout. */
  SocketClosed: "socket_closed",
} as const;
export type SessionEnd = (typeof SessionEnd)[keyof typeof SessionEnd];

export const SessionState = {
  AwaitingLogon: "awaiting-logon",
  Active: "active",
  LoggingOut: "logging-out",
  Disconnected: "disconnected",
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

const BEGIN_STRING = Buffer.from("FIX.4.4", "latin1");
/** A missed heartbeat is noticed after HeartBtInt plus this share of it ("some reasonable transmission time"). */
const HEARTBEAT_GRACE = 0.2;

export class FixSession {
  state: SessionState = SessionState.AwaitingLogon;
  readonly sequences: SessionSequences;
  heartBtIntMs = 30_000;
  private readonly settings: SessionSettings;
  private readonly encoder = new FixEncoder();
  /** SenderCompID and TargetCompID, encoded once for every message's header. */
  private readonly compIds: EncodedFields;
  private readonly sender: Buffer;
  private readonly target: Buffer;
  private readonly out: SessionAction[] = [];
  private readonly connectedAt: number;
  private lastReceivedAt: number;
  private lastSentAt: number;
  private testRequestSentAt = -1;
  private testRequestCount = 0;
  private logoutSentAt = -1;
  /** Why the gateway sent its Logout: the connection's end once answered (or not). */
  private logoutEnd: SessionEnd = SessionEnd.ServerStop;
  /** The highest MsgSeqNum asked for by our outstanding ResendRequest (0 = none). */
  private resendUpTo = 0;
  private throttleTokens: number;
  private throttleAt: number;

  constructor(settings: SessionSettings, sequences: SessionSequences, nowMs: number) {
    this.settings = settings;
    this.sequences = { ...sequences };
    this.sender = Buffer.from(settings.senderCompId, "latin1");
    this.target = Buffer.from(settings.targetCompId, "latin1");
    this.compIds = encodeFields([
      [Tag.SenderCompID, settings.senderCompId],
      [Tag.TargetCompID, settings.targetCompId],
    ]);
    this.connectedAt = nowMs;
    this.lastReceivedAt = nowMs;
    this.lastSentAt = nowMs;
    this.throttleTokens = settings.maxMessagesPerSecond;
    this.throttleAt = nowMs;
  }

  /** Handles the message the parser just returned; returns the actions to perform. */
  receive(parser: FixParser, nowMs: number): SessionAction[] {
    this.out.length = 0;
    if (this.state === SessionState.Disconnected) return this.out;
    this.lastReceivedAt = nowMs;
    this.testRequestSentAt = -1; // any message shows the peer is alive
    this.handle(parser.message, parser.problem, parser.problemTag, nowMs);
    return this.out;
  }

  /** Garbled bytes: FIX ignores them (no Reject, no sequence number used). */
  garbled(): SessionAction[] {
    this.out.length = 0;
    return this.out;
  }

  /**
   * Timers: heartbeats, test requests, logon and logout timeouts. Call every second or so.
   * `peerUnread`: we are not reading the connection now (flow control paused it), so the
   * peer's messages wait in our buffers: its silence is not held against it (no TestRequest,
   * no timeout), while our own heartbeats still go out.
   */
  tick(nowMs: number, peerUnread = false): SessionAction[] {
    this.out.length = 0;
    if (peerUnread) {
      this.lastReceivedAt = nowMs;
      this.testRequestSentAt = -1;
    }
    const s = this.state;
    if (s === SessionState.AwaitingLogon) {
      if (nowMs - this.connectedAt >= this.settings.logonTimeoutMs)
        this.disconnect("no Logon in time", SessionEnd.LogonTimeout);
    } else if (s === SessionState.LoggingOut) {
      if (nowMs - this.logoutSentAt >= this.settings.logoutTimeoutMs)
        this.disconnect("no Logout answer in time", this.logoutEnd);
    } else if (s === SessionState.Active) {
      const grace = this.heartBtIntMs * (1 + HEARTBEAT_GRACE);
      if (this.testRequestSentAt >= 0 && nowMs - this.testRequestSentAt >= grace) {
        this.logout("test request timeout", nowMs, SessionEnd.HeartbeatTimeout);
        this.disconnect("test request timeout", SessionEnd.HeartbeatTimeout);
      } else if (this.testRequestSentAt < 0 && nowMs - this.lastReceivedAt >= grace) {
        this.testRequestSentAt = nowMs;
        this.sendAdmin(MsgType.TestRequest, nowMs, (e) => e.string(Tag.TestReqID, `TEST-${++this.testRequestCount}`));
      } else if (nowMs - this.lastSentAt >= this.heartBtIntMs) {
        this.sendAdmin(MsgType.Heartbeat, nowMs);
      }
    }
    return this.out;
  }

  /**
   * Sends an application message: the header is ours, `body` writes the rest. Refused
   * (returns no action) unless the session is logged on.
   */
  send(msgType: string, nowMs: number, body: (e: FixEncoder) => void): SessionAction[] {
    this.out.length = 0;
    if (this.state !== SessionState.Active) return this.out;
    this.emitNew(msgType, nowMs, body);
    return this.out;
  }

  /** Starts a Logout of our own (shutdown): the session ends on the answer or a timeout. */
  logoutNow(text: string, nowMs: number, end: SessionEnd = SessionEnd.ServerStop): SessionAction[] {
    this.out.length = 0;
    if (this.state === SessionState.Active) this.logout(text, nowMs, end);
    else if (this.state === SessionState.AwaitingLogon) this.disconnect(text, end);
    return this.out;
  }

  /**
   * Serves a ResendRequest: `stored` maps MsgSeqNum to the bytes we sent. Application
   * messages go out again with PossDupFlag=Y and OrigSendingTime; administrative and
   * missing ones become SequenceReset-GapFill runs.
   */
  resend(from: number, to: number, stored: ReadonlyMap<number, Uint8Array>, nowMs: number): SessionAction[] {
    this.out.length = 0;
    if (this.state !== SessionState.Active && this.state !== SessionState.LoggingOut) return this.out;
    const parser = new FixParser();
    let gapStart = 0;
    for (let seq = from; seq <= to; seq++) {
      const bytes = stored.get(seq);
      const ok = bytes !== undefined && parser.parse(bytes, 0, bytes.length) === ParseStatus.Message;
      const m = parser.message;
      if (!ok || isAdminMsgType(m.msgType)) {
        if (gapStart === 0) gapStart = seq;
        continue;
      }
      if (gapStart !== 0) {
        this.gapFill(gapStart, seq, nowMs);
        gapStart = 0;
      }
      this.resendOne(m, seq, nowMs);
    }
    if (gapStart !== 0) this.gapFill(gapStart, to + 1, nowMs);
    return this.out;
  }

  private handle(m: FixMessage, problem: number, problemTag: number, now: number): void {
    if (!m.equals(Tag.BeginString, BEGIN_STRING)) {
      if (this.state !== SessionState.AwaitingLogon)
        this.logout("BeginString must be FIX.4.4", now, SessionEnd.InvalidMessage);
      this.disconnect("wrong BeginString", SessionEnd.InvalidMessage);
      return;
    }
    const msgType = m.msgType;
    const seq = m.int(Tag.MsgSeqNum);
    if (this.state === SessionState.AwaitingLogon) {
      if (msgType !== MsgType.Logon) return this.disconnect("first message is not a Logon", SessionEnd.LogonRefused);
      this.handleLogon(m, seq, problem, problemTag, now);
      return;
    }
    if (!m.equals(Tag.SenderCompID, this.target) || !m.equals(Tag.TargetCompID, this.sender)) {
      this.reject(
        m,
        seq,
        SessionRejectReason.CompIdProblem,
        m.has(49) ? Tag.TargetCompID : Tag.SenderCompID,
        "CompID problem",
        now,
      );
      this.logout("CompID problem", now, SessionEnd.InvalidMessage);
      this.disconnect("CompID problem", SessionEnd.InvalidMessage);
      return;
    }
    if (!(seq >= 1)) {
      this.logout("MsgSeqNum missing or not a number", now, SessionEnd.InvalidMessage);
      this.disconnect("MsgSeqNum missing", SessionEnd.InvalidMessage);
      return;
    }
    // SequenceReset in reset mode ignores MsgSeqNum.
    if (msgType === MsgType.SequenceReset && m.bool(Tag.GapFillFlag) !== 1) {
      this.sequenceReset(m, seq, now);
      return;
    }
    const expected = this.sequences.nextTargetSeq;
    const possDup = m.bool(Tag.PossDupFlag) === 1;
    if (seq < expected) {
      if (possDup) {
        this.checkOrigSendingTime(m, seq, now);
        return; // a duplicate we have seen: ignored
      }
      const text = `MsgSeqNum too low, expecting ${expected} but received ${seq}`;
      this.logout(text, now, SessionEnd.SeqTooLow);
      this.disconnect(text, SessionEnd.SeqTooLow);
      return;
    }
    if (seq > expected) {
      if (msgType === MsgType.Logout) {
        this.answerLogout(now);
        return;
      }
      if (msgType === MsgType.ResendRequest) this.handleResendRequest(m, seq, now, false);
      // One ResendRequest (to infinity) at a time: it covers every later message too.
      if (this.resendUpTo === 0)
        this.sendAdmin(MsgType.ResendRequest, now, (e) => e.int(Tag.BeginSeqNo, expected).int(Tag.EndSeqNo, 0));
      this.resendUpTo = Math.max(this.resendUpTo, seq);
      return;
    }
    // seq === expected
    if (!this.checkSendingTime(m, seq, possDup, now)) return;
    if (problem >= 0) {
      this.advance();
      this.reject(m, seq, problem, problemTag, "invalid field", now);
      return;
    }
    this.advance();
    if (this.resendUpTo !== 0 && seq >= this.resendUpTo) this.resendUpTo = 0;
    this.dispatch(m, msgType, seq, now);
  }

  private dispatch(m: FixMessage, msgType: string, seq: number, now: number): void {
    switch (msgType) {
      case MsgType.Heartbeat:
        return;
      case MsgType.TestRequest: {
        const id = m.string(Tag.TestReqID);
        if (id === undefined)
          return this.reject(m, seq, SessionRejectReason.RequiredTagMissing, Tag.TestReqID, "TestReqID missing", now);
        this.sendAdmin(MsgType.Heartbeat, now, (e) => e.string(Tag.TestReqID, id));
        return;
      }
      case MsgType.ResendRequest:
        this.handleResendRequest(m, seq, now, true);
        return;
      case MsgType.Reject:
        return;
      case MsgType.SequenceReset:
        this.gapFillReceived(m, seq, now);
        return;
      case MsgType.Logout:
        if (this.state === SessionState.LoggingOut) this.disconnect("logged out", this.logoutEnd);
        else this.answerLogout(now);
        return;
      case MsgType.Logon:
        this.logout("Logon received on a logged-on session", now, SessionEnd.InvalidMessage);
        this.disconnect("second Logon", SessionEnd.InvalidMessage);
        return;
      default:
        if (msgType.length === 0 || isAdminMsgType(msgType))
          return this.reject(m, seq, SessionRejectReason.InvalidMsgType, Tag.MsgType, "invalid MsgType", now);
        if (this.state !== SessionState.Active) return;
        if (!this.takeToken(now)) {
          this.reject(
            m,
            seq,
            SessionRejectReason.Other,
            0,
            `throttled: over ${this.settings.maxMessagesPerSecond} messages per second`,
            now,
          );
          return;
        }
        this.out.push({ type: "application", message: m });
    }
  }

  private handleLogon(m: FixMessage, seq: number, problem: number, problemTag: number, now: number): void {
    const fail = (text: string, end: SessionEnd = SessionEnd.LogonRefused) => {
      this.disconnect(`Logon refused: ${text}`, end);
    };
    if (!m.equals(Tag.SenderCompID, this.target) || !m.equals(Tag.TargetCompID, this.sender))
      return fail("CompID problem");
    if (problem >= 0) return fail(`invalid field ${problemTag}`);
    if (!(seq >= 1)) return fail("MsgSeqNum missing");
    const hb = m.int(Tag.HeartBtInt);
    const { minHeartBtIntSeconds: lo, maxHeartBtIntSeconds: hi } = this.settings;
    if (!(hb >= lo && hb <= hi)) return fail(`HeartBtInt must be ${lo} to ${hi} seconds`);
    if (m.int(Tag.EncryptMethod, 0) !== 0) return fail("EncryptMethod must be 0");
    if (this.settings.password !== undefined && !sameSecret(m.string(Tag.Password) ?? "", this.settings.password))
      return fail("bad credentials", SessionEnd.BadCredentials);
    const sent = m.timestamp(Tag.SendingTime);
    if (!(Math.abs(sent - now) <= this.settings.maxSendingTimeSkewMs))
      return fail("SendingTime accuracy problem", SessionEnd.SendingTime);
    const reset = m.bool(Tag.ResetSeqNumFlag) === 1;
    if (reset) {
      if (seq !== 1) return fail("ResetSeqNumFlag with MsgSeqNum other than 1");
      this.sequences.nextSenderSeq = 1;
      this.sequences.nextTargetSeq = 1;
      this.out.push({ type: "reset" });
    }
    const expected = this.sequences.nextTargetSeq;
    if (seq < expected)
      return fail(`MsgSeqNum too low, expecting ${expected} but received ${seq}`, SessionEnd.SeqTooLow);
    this.heartBtIntMs = hb * 1000;
    this.state = SessionState.Active;
    this.emitNew(MsgType.Logon, now, (e) => {
      e.int(Tag.EncryptMethod, 0).int(Tag.HeartBtInt, hb);
      if (reset) e.bool(Tag.ResetSeqNumFlag, true);
    });
    this.out.push({ type: "loggedOn", heartBtIntSeconds: hb });
    if (seq > expected) {
      this.resendUpTo = seq;
      this.sendAdmin(MsgType.ResendRequest, now, (e) => e.int(Tag.BeginSeqNo, expected).int(Tag.EndSeqNo, 0));
    } else {
      this.advance();
    }
  }

  private handleResendRequest(m: FixMessage, seq: number, now: number, inSequence: boolean): void {
    const from = m.int(Tag.BeginSeqNo);
    const end = m.int(Tag.EndSeqNo);
    if (!(from >= 1) || !(end >= 0) || (end !== 0 && end < from)) {
      if (inSequence) this.reject(m, seq, SessionRejectReason.ValueIncorrect, Tag.BeginSeqNo, "bad resend range", now);
      return;
    }
    const last = this.sequences.nextSenderSeq - 1;
    const to = end === 0 || end > last ? last : end;
    if (from > to) return;
    this.out.push({ type: "resend", from, to });
  }

  private gapFillReceived(m: FixMessage, seq: number, now: number): void {
    const next = m.int(Tag.NewSeqNo);
    if (!(next > seq)) {
      this.reject(m, seq, SessionRejectReason.ValueIncorrect, Tag.NewSeqNo, "NewSeqNo must exceed MsgSeqNum", now);
      return;
    }
    this.setNextTarget(next);
  }

  private sequenceReset(m: FixMessage, seq: number, now: number): void {
    const next = m.int(Tag.NewSeqNo);
    if (!(next >= 1)) {
      this.reject(m, seq, SessionRejectReason.RequiredTagMissing, Tag.NewSeqNo, "NewSeqNo missing", now);
      return;
    }
    if (next < this.sequences.nextTargetSeq) {
      this.reject(
        m,
        seq,
        SessionRejectReason.ValueIncorrect,
        Tag.NewSeqNo,
        "NewSeqNo below the expected MsgSeqNum",
        now,
      );
      return;
    }
    this.setNextTarget(next);
  }

  private setNextTarget(next: number): void {
    this.sequences.nextTargetSeq = next;
    if (this.resendUpTo !== 0 && next > this.resendUpTo) this.resendUpTo = 0;
    this.out.push({ type: "sequences", sequences: { ...this.sequences } });
  }

  private checkSendingTime(m: FixMessage, seq: number, possDup: boolean, now: number): boolean {
    const sent = m.timestamp(Tag.SendingTime);
    if (possDup) return this.checkOrigSendingTime(m, seq, now);
    if (Math.abs(sent - now) <= this.settings.maxSendingTimeSkewMs) return true;
    this.advance();
    this.reject(
      m,
      seq,
      SessionRejectReason.SendingTimeAccuracyProblem,
      Tag.SendingTime,
      "SendingTime accuracy problem",
      now,
    );
    this.logout("SendingTime accuracy problem", now, SessionEnd.SendingTime);
    this.disconnect("SendingTime accuracy problem", SessionEnd.SendingTime);
    return false;
  }

  /** A PossDup message must carry OrigSendingTime no later than its SendingTime. */
  private checkOrigSendingTime(m: FixMessage, seq: number, now: number): boolean {
    const orig = m.timestamp(Tag.OrigSendingTime);
    const sent = m.timestamp(Tag.SendingTime);
    const inSequence = seq === this.sequences.nextTargetSeq;
    if (Number.isNaN(orig)) {
      // An admin message resent as a gap fill may lack it; anything else must carry it.
      if (m.msgType === MsgType.SequenceReset) return true;
      if (inSequence) this.advance();
      this.reject(m, seq, SessionRejectReason.RequiredTagMissing, Tag.OrigSendingTime, "OrigSendingTime missing", now);
      return false;
    }
    if (orig > sent) {
      if (inSequence) this.advance();
      this.reject(
        m,
        seq,
        SessionRejectReason.SendingTimeAccuracyProblem,
        Tag.OrigSendingTime,
        "OrigSendingTime after SendingTime",
        now,
      );
      this.logout("SendingTime accuracy problem", now, SessionEnd.SendingTime);
      this.disconnect("OrigSendingTime after SendingTime", SessionEnd.SendingTime);
      return false;
    }
    return true;
  }

  private answerLogout(now: number): void {
    this.sendAdmin(MsgType.Logout, now);
    this.disconnect("logged out by the client", SessionEnd.ClientLogout);
  }

  private logout(text: string, now: number, end: SessionEnd): void {
    if (this.state !== SessionState.Active) return;
    this.logoutEnd = end;
    this.sendAdmin(MsgType.Logout, now, (e) => e.string(Tag.Text, text));
    this.state = SessionState.LoggingOut;
    this.logoutSentAt = now;
  }

  private disconnect(reason: string, end: SessionEnd): void {
    if (this.state === SessionState.Disconnected) return;
    this.state = SessionState.Disconnected;
    this.out.push({ type: "disconnect", reason, end });
  }

  private reject(m: FixMessage, seq: number, reason: number, refTag: number, text: string, now: number): void {
    const refMsgType = m.msgType;
    this.sendAdmin(MsgType.Reject, now, (e) => {
      if (seq >= 1) e.int(Tag.RefSeqNum, seq);
      if (refTag > 0) e.int(Tag.RefTagID, refTag);
      if (refMsgType.length > 0 && refMsgType.length <= 2) e.string(Tag.RefMsgType, refMsgType);
      e.int(Tag.SessionRejectReason, reason).string(Tag.Text, text);
    });
    this.out.push({ type: "rejected", reason, text });
  }

  private advance(): void {
    this.sequences.nextTargetSeq++;
    this.out.push({ type: "sequences", sequences: { ...this.sequences } });
  }

  private sendAdmin(msgType: string, now: number, body?: (e: FixEncoder) => void): void {
    this.emitNew(msgType, now, body);
  }

  /** A new message with the next MsgSeqNum: stored, then sent. */
  private emitNew(msgType: string, now: number, body?: (e: FixEncoder) => void): void {
    const seq = this.sequences.nextSenderSeq++;
    const e = this.header(msgType, seq, now);
    body?.(e);
    // A copy: several messages of one call share the encoder's buffer.
    const bytes = Buffer.from(e.finish());
    this.out.push({ type: "store", seq, bytes });
    this.out.push({ type: "sequences", sequences: { ...this.sequences } });
    this.out.push({ type: "send", bytes });
    this.lastSentAt = now;
  }

  private header(msgType: string, seq: number, now: number): FixEncoder {
    return this.encoder.start(msgType).fields(this.compIds).int(Tag.MsgSeqNum, seq).timestamp(Tag.SendingTime, now);
  }

  private gapFill(from: number, next: number, now: number): void {
    const bytes = this.header(MsgType.SequenceReset, from, now)
      .bool(Tag.PossDupFlag, true)
      .bool(Tag.GapFillFlag, true)
      .int(Tag.NewSeqNo, next)
      .finish();
    this.out.push({ type: "send", bytes: Buffer.from(bytes) });
    this.lastSentAt = now;
  }

  private resendOne(m: FixMessage, seq: number, now: number): void {
    const e = this.header(m.msgType, seq, now).bool(Tag.PossDupFlag, true);
    const orig = m.timestamp(Tag.SendingTime);
    if (!Number.isNaN(orig)) e.timestamp(Tag.OrigSendingTime, orig);
    // The body is every field after the standard header, copied as it was sent.
    let first = -1;
    for (let i = 3; i < m.count - 1; i++) {
      const t = m.tags[i]!;
      if (t !== 49 && t !== 56 && t !== 34 && t !== 52 && t !== 43 && t !== 122 && t !== 97) {
        first = i;
        break;
      }
    }
    if (first >= 0) {
      const start = m.valueStarts[first]! - String(m.tags[first]).length - 1;
      const end = m.valueEnds[m.count - 2]! + 1;
      e.raw(m.buf.subarray(start, end));
    }
    this.out.push({ type: "send", bytes: Buffer.from(e.finish()) });
    this.lastSentAt = now;
  }

  private takeToken(now: number): boolean {
    const rate = this.settings.maxMessagesPerSecond;
    if (rate <= 0) return true;
    this.throttleTokens = Math.min(rate, this.throttleTokens + ((now - this.throttleAt) * rate) / 1000);
    this.throttleAt = now;
    if (this.throttleTokens < 1) return false;
    this.throttleTokens -= 1;
    return true;
  }
}

/** Compares secrets in time independent of where they differ. */
function sameSecret(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a.charCodeAt(i % Math.max(a.length, 1)) || 0) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Whether a Logon carries the session's credentials (its Password, when the session has
 * one): checked before a refused Logon is told why, so that only the session's own client
 * learns that it is connected elsewhere.
 */
export function logonCredentialsMatch(settings: SessionSettings, m: FixMessage): boolean {
  return settings.password === undefined || sameSecret(m.string(Tag.Password) ?? "", settings.password);
}

/**
 * A Logout answering a Logon that cannot take up its session (another connection holds
 * it), so the client sees why. It stands outside the session's sequence: the session's
 * numbers belong to the connection that holds it, so this one carries MsgSeqNum 1 and is
 * never stored (FIX engines read a Logout's Text whatever its MsgSeqNum: QuickFIX checks
 * neither bound on a Logout).
 */
export function refusedLogonLogout(settings: SessionSettings, text: string, nowMs: number): Buffer {
  const e = new FixEncoder("FIX.4.4", 512)
    .start(MsgType.Logout)
    .string(Tag.SenderCompID, settings.senderCompId)
    .string(Tag.TargetCompID, settings.targetCompId)
    .int(Tag.MsgSeqNum, 1)
    .timestamp(Tag.SendingTime, nowMs)
    .string(Tag.Text, text);
  return Buffer.from(e.finish());
}
