import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, TLSSocket, type TlsOptions } from "node:tls";
import type { Logger } from "@tradeplane/platform";
import type { FixEncoder } from "../domain/fix-encoder.ts";
import type { FixMessage } from "../domain/fix-message.ts";
import { FixParser, ParseStatus } from "../domain/fix-parser.ts";
import { MsgType, Tag } from "../domain/fix-tags.ts";
import {
  FixSession,
  logonCredentialsMatch,
  refusedLogonLogout,
  SessionEnd,
  SessionState,
  type SessionAction,
  type SessionSettings,
} from "../domain/session.ts";
import type { SessionStore } from "./session-store.ts";

/** One configured FIX session: a SenderCompID/TargetCompID pair and what it may do. */
export interface AcceptorSession {
  /** Name used in the store's keys, logs and metrics. */
  readonly id: string;
  readonly settings: SessionSettings;
  /**
   * When set, the session logs on only over TLS with a client certificate the acceptor
   * verified (against `tls.ca`) whose subject CN is this.
   */
  readonly clientCertSubject?: string;
}

/** What the application layer (order entry) sees of a logged-on session. */
export interface SessionLink {
  readonly id: string;
  /** Sends an application message on the session; false when it is not logged on. */
  send(msgType: string, body: (e: FixEncoder) => void): boolean;
  /**
   * Stops handing the session's application messages over (flow control, never a reject):
   * they are held, in order, while session-level messages (Heartbeat, TestRequest,
   * ResendRequest, Logout) are still read and answered. Past a bound of held messages the
   * socket is paused too, so the client's TCP window fills.
   */
  pauseReading(): void;
  /** Hands the held messages over again, oldest first, then reads on. */
  resumeReading(): void;
}

export interface ApplicationHandler {
  loggedOn(link: SessionLink): void;
  /** An application message, valid only during the call: copy what you keep. */
  message(link: SessionLink, m: FixMessage): void;
  disconnected(link: SessionLink): void;
}

export interface AcceptorMetrics {
  sessionUp(id: string): void;
  sessionDown(id: string): void;
  received(id: string, msgType: string): void;
  sent(id: string, msgType: string): void;
  rejected(id: string, reason: number): void;
  resendRequested(id: string): void;
  garbled(id: string): void;
  /** A connection ended: `id` its session's ("unknown" before a Logon named one), `end` why. */
  sessionEnded(id: string, end: SessionEnd): void;
}

export interface FixAcceptorDeps {
  readonly sessions: readonly AcceptorSession[];
  readonly openStore: (sessionId: string) => SessionStore;
  readonly application: ApplicationHandler;
  readonly logger: Logger;
  readonly metrics?: AcceptorMetrics;
  /**
   * TLS: key and certificate; with `ca`, clients are asked for a certificate (optional:
   * one that does not verify against `ca` is refused, none at all is fine for sessions
   * that do not name a clientCertSubject). Plain TCP when absent.
   */
  readonly tls?: TlsOptions;
  readonly clock?: () => number;
  /** Timer period for heartbeats and timeouts, in ms. */
  readonly tickMs?: number;
  readonly maxMessageBytes?: number;
  /**
   * Application messages one paused session may hold (see SessionLink.pauseReading) before
   * its socket is paused as well; DEFAULT_MAX_HELD_MESSAGES when absent.
   */
  readonly maxHeldMessages?: number;
  /**
   * How long a Logon waits for the session's previous connection to finish closing (its
   * last sequence numbers stored), in ms; DEFAULT_TEARDOWN_WAIT_MS when absent.
   */
  readonly teardownWaitMs?: number;
}

export const DEFAULT_MAX_HELD_MESSAGES = 1_000;
/**
 * A client that reconnects at once after a drop (QuickFIX does) finds the old connection
 * still storing its sequence numbers: a store round trip, far below this on a sound store.
 */
export const DEFAULT_TEARDOWN_WAIT_MS = 5_000;
/** Bytes of held messages past which the socket is paused whatever their number. */
const MAX_HELD_BYTES = 4 * 1024 * 1024;

const NO_METRICS: AcceptorMetrics = {
  sessionUp() {},
  sessionDown() {},
  received() {},
  sent() {},
  rejected() {},
  resendRequested() {},
  garbled() {},
  sessionEnded() {},
};

/**
 * The FIX acceptor: TCP (or TLS) connections, each bound to the configured session its
 * Logon names, one at a time per session. Bytes are framed by FixParser, the session layer
 * decides (FixSession), and this performs its actions: socket writes, store writes,
 * resends from the store, the hand-over of application messages, disconnects.
 */
export class FixAcceptor {
  private readonly deps: FixAcceptorDeps;
  private readonly byCompIds = new Map<string, AcceptorSession>();
  private readonly live = new Map<string, Connection>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  constructor(deps: FixAcceptorDeps) {
    this.deps = deps;
    for (const s of deps.sessions) this.byCompIds.set(compKey(s.settings.targetCompId, s.settings.senderCompId), s);
  }

  /** Listens; returns the port (0 picks a free one). */
  async listen(host: string, port: number): Promise<number> {
    const onSocket = (socket: Socket) => this.accept(socket);
    const tls = this.deps.tls;
    const server =
      tls === undefined
        ? createServer(onSocket)
        : createTlsServer(
            // Verified by hand per connection (see verifiedPeer): a client without a certificate may still trade a session that asks for none.
            tls.ca === undefined ? tls : { ...tls, requestCert: true, rejectUnauthorized: false },
            onSocket,
          );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    return typeof address === "object" && address !== null ? address.port : port;
  }

  /** Sessions logged on now (ids). */
  get loggedOn(): string[] {
    return [...this.live.values()].filter((c) => c.session?.state === SessionState.Active).map((c) => c.id);
  }

  /** Logs every session out (waiting briefly for the answers), stops listening, flushes the stores. */
  async close(waitMs = 2_000): Promise<void> {
    this.server?.close();
    const conns = [...this.live.values()];
    for (const c of conns) c.logout("gateway shutting down");
    const deadline = this.now() + waitMs;
    while (this.sockets.size > 0 && this.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sockets) s.destroy();
    await Promise.all(conns.map((c) => c.store?.flush().catch(() => undefined)));
  }

  now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    if (socket instanceof TLSSocket && !socket.authorized && socket.getPeerCertificate().subject !== undefined) {
      // Presented a certificate that does not verify against our CA: never a session's client.
      this.deps.logger.info(
        { remote: socket.remoteAddress, reason: String(socket.authorizationError) },
        "FIX connection refused: client certificate not trusted",
      );
      (this.deps.metrics ?? NO_METRICS).sessionEnded(UNKNOWN_SESSION, SessionEnd.BadCredentials);
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const conn = new Connection(this, socket, this.deps);
    socket.on("close", () => {
      this.sockets.delete(socket);
      conn.closed();
    });
  }

  /** The configured session a Logon's CompIDs name. */
  sessionOf(m: FixMessage): AcceptorSession | undefined {
    return this.byCompIds.get(compKey(m.string(Tag.SenderCompID) ?? "", m.string(Tag.TargetCompID) ?? ""));
  }

  /**
   * Claims the session for `conn` when no connection holds it. Otherwise: "connected" while
   * the holder is live, or the promise of its release while it is closing (storing the
   * sequence numbers the next Logon loads).
   */
  claim(session: AcceptorSession, conn: Connection): Claim {
    const holder = this.live.get(session.id);
    if (holder === undefined) {
      this.live.set(session.id, conn);
      return CLAIMED;
    }
    return holder.ending ? holder.freed : CONNECTED;
  }

  release(id: string, conn: Connection): void {
    if (this.live.get(id) === conn) this.live.delete(id);
  }
}

/** The session label of what happens before a Logon names a configured session. */
const UNKNOWN_SESSION = "unknown";
const CLAIMED = "claimed";
const CONNECTED = "connected";
type Claim = typeof CLAIMED | typeof CONNECTED | Promise<void>;

function compKey(sender: string, target: string): string {
  return `${sender}\u0000${target}`;
}

class Connection implements SessionLink {
  id = "";
  session: FixSession | undefined;
  store: SessionStore | undefined;
  private readonly acceptor: FixAcceptor;
  private readonly socket: Socket;
  private readonly deps: FixAcceptorDeps;
  private readonly metrics: AcceptorMetrics;
  private readonly parser: FixParser;
  private buf = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  private loading = false;
  private timer: NodeJS.Timeout | undefined;
  private wasLoggedOn = false;
  private ended = false;
  /** The session the Logon named (metrics), set before it is claimed: a refused Logon counts under it too. */
  private named = "";
  /** Why the connection ends: the first cause wins (a socket closed after a Logout is a Logout). */
  private endedAs: SessionEnd | undefined;
  /** Messages of the current turn, written once the turn is stored. */
  private outbox: Buffer[] = [];
  private turnScheduled = false;
  /** End the connection once the messages before it are written (a Logout answer, then close). */
  private endAfterWrites = false;
  /** The turns' writes, in order: each waits for its commit and for the turn before it. */
  private writes: Promise<void> = Promise.resolve();
  /** Flow control: application messages are held while set (see pauseReading). */
  private readPaused = false;
  /** Application messages accepted by the session layer and held for flow control, oldest at `heldHead`. */
  private held: Buffer[] = [];
  private heldHead = 0;
  private heldBytes = 0;
  /** A sequence reset came while messages were held: their numbers mean nothing any more. */
  private resetWhileHeld = false;
  private releaseScheduled = false;
  /** The socket itself is paused (too much held): the peer's silence is ours then, not held against it. */
  private socketPaused = false;
  private readonly heldParser: FixParser;
  private readonly maxHeld: number;
  /** Resolves once the session this connection held is free again (see closed()). */
  readonly freed: Promise<void>;
  private free: () => void = () => undefined;
  /** This connection's Logon has waited for the session's previous connection once already. */
  private waitedForTeardown = false;

  constructor(acceptor: FixAcceptor, socket: Socket, deps: FixAcceptorDeps) {
    this.acceptor = acceptor;
    this.socket = socket;
    this.deps = deps;
    this.metrics = deps.metrics ?? NO_METRICS;
    this.parser = new FixParser(deps.maxMessageBytes);
    this.heldParser = new FixParser(deps.maxMessageBytes);
    this.maxHeld = Math.max(1, deps.maxHeldMessages ?? DEFAULT_MAX_HELD_MESSAGES);
    this.freed = new Promise((resolve) => (this.free = resolve));
    socket.on("data", (chunk: Buffer) => this.data(chunk));
    socket.on("error", (e) => {
      this.endAs(SessionEnd.SocketError);
      deps.logger.debug({ err: e.message, session: this.id }, "FIX connection error");
    });
    // A connection that never logs on is dropped by the logon timeout of the first session's settings.
    const logonTimeout = deps.sessions[0]?.settings.logonTimeoutMs ?? 10_000;
    this.timer = setInterval(() => this.tick(), deps.tickMs ?? 1_000);
    this.timer.unref();
    setTimeout(() => {
      if (this.session === undefined && !this.loading) this.drop("no Logon in time", SessionEnd.LogonTimeout);
    }, logonTimeout).unref();
  }

  send(msgType: string, body: (e: FixEncoder) => void): boolean {
    const s = this.session;
    if (s === undefined || s.state !== SessionState.Active) return false;
    this.perform(s.send(msgType, this.acceptor.now(), body));
    return true;
  }

  pauseReading(): void {
    this.readPaused = true;
  }

  resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    if (this.ended || this.releaseScheduled || this.heldHead === this.held.length) return;
    // Not from inside the caller's flow-control bookkeeping: a held message may pause again.
    this.releaseScheduled = true;
    setImmediate(() => this.releaseHeld());
  }

  /** Ended or ending: a Logon for its session waits for it to be freed rather than being refused. */
  get ending(): boolean {
    return this.ended;
  }

  /** The gateway is stopping: a Logout, and the end counted as its stop whatever the client does then. */
  logout(text: string): void {
    this.endAs(SessionEnd.ServerStop);
    if (this.session !== undefined) this.perform(this.session.logoutNow(text, this.acceptor.now()));
    else this.drop(text, SessionEnd.ServerStop);
  }

  closed(): void {
    this.ended = true;
    clearInterval(this.timer);
    this.metrics.sessionEnded(this.named || UNKNOWN_SESSION, this.endedAs ?? SessionEnd.SocketClosed);
    if (this.id !== "") {
      // The session is free for a new connection once the sequence numbers it will load are
      // stored: those of the held messages, and those of the last turns still on their way.
      void Promise.allSettled([this.forgetHeld(), this.store?.flush()]).then(() => {
        this.acceptor.release(this.id, this);
        this.free();
      });
      if (this.wasLoggedOn) {
        this.metrics.sessionDown(this.id);
        this.deps.application.disconnected(this);
      }
      this.deps.logger.info({ session: this.id }, "FIX session disconnected");
    }
  }

  private data(chunk: Buffer): void {
    if (this.ended) return;
    // Append, compacting what has been consumed.
    const pending = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, pending + chunk.length, 4096));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
      this.start = 0;
      this.end = pending;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
    this.parseBuffered();
  }

  private parseBuffered(): void {
    // Read on while paused for flow control: session-level messages are answered at once,
    // application ones held (see perform).
    while (!this.loading && !this.ended && this.start < this.end) {
      const status = this.parser.parse(this.buf, this.start, this.end);
      if (status === ParseStatus.Incomplete) break;
      if (status === ParseStatus.Garbled) {
        this.metrics.garbled(this.id || UNKNOWN_SESSION);
        this.deps.logger.debug({ session: this.id, reason: this.parser.reason }, "garbled FIX bytes dropped");
        this.start = this.parser.next;
        continue;
      }
      if (this.session === undefined) {
        this.first(this.parser.message);
        return; // resumed once the store is loaded
      }
      const m = this.parser.message;
      this.metrics.received(this.id, m.msgType);
      const actions = this.session.receive(this.parser, this.acceptor.now());
      this.start = this.parser.next;
      this.perform(actions);
    }
    if (this.start === this.end) this.start = this.end = 0;
  }

  /**
   * The first message: find and claim its session, load the session's state, then go on.
   * A session whose previous connection is still closing is waited for (bounded), then
   * claimed with the sequence numbers that connection stored.
   */
  private first(m: FixMessage): void {
    if (m.msgType !== MsgType.Logon) return this.drop("first message is not a Logon", SessionEnd.LogonRefused);
    const session = this.acceptor.sessionOf(m);
    if (session === undefined) return this.drop("unknown CompIDs", SessionEnd.UnknownSession);
    this.named = session.id;
    if (session.clientCertSubject !== undefined && verifiedPeer(this.socket) !== session.clientCertSubject)
      return this.drop(`session ${session.id} requires its client certificate`, SessionEnd.BadCredentials);
    const claim = this.acceptor.claim(session, this);
    if (claim !== CLAIMED) {
      // Only the session's own client (its certificate checked above, its password here)
      // is told why: anyone else learns nothing of the session.
      if (!logonCredentialsMatch(session.settings, m))
        return this.drop(`session ${session.id}: bad credentials`, SessionEnd.BadCredentials);
      if (claim === CONNECTED) return this.refuse(session, "session already logged on from another connection");
      if (this.waitedForTeardown)
        return this.refuse(session, "the session's previous connection is still closing: log on again later");
      return this.awaitTeardown(session, claim);
    }
    this.id = session.id;
    this.loading = true;
    const store = this.deps.openStore(session.id);
    this.store = store;
    store.load().then(
      (sequences) => {
        this.loading = false;
        if (this.ended) return;
        this.session = new FixSession(session.settings, sequences, this.acceptor.now());
        this.parseBuffered(); // the Logon is still at `start`
      },
      (e: unknown) => {
        this.deps.logger.error({ session: this.id, err: String(e) }, "cannot load the FIX session state");
        this.loading = false;
        this.drop("session state unavailable", SessionEnd.StoreFailure);
      },
    );
  }

  /** Reads nothing more until the session's previous connection is freed (or the wait ends), then takes the Logon again. */
  private awaitTeardown(session: AcceptorSession, freed: Promise<void>): void {
    this.waitedForTeardown = true;
    this.loading = true;
    this.deps.logger.info({ session: session.id }, "FIX Logon waits for the session's previous connection to close");
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.deps.teardownWaitMs ?? DEFAULT_TEARDOWN_WAIT_MS).unref();
    });
    void Promise.race([freed, waited]).then(() => {
      clearTimeout(timer);
      this.loading = false;
      this.parseBuffered(); // the Logon is still at `start`
    });
  }

  /** A Logon that cannot take up its session: a Logout saying why (outside the session's sequence), then the end. */
  private refuse(session: AcceptorSession, text: string): void {
    this.deps.logger.info(
      { session: session.id, reason: text, remote: this.socket.remoteAddress },
      "FIX Logon refused",
    );
    this.endAs(SessionEnd.DuplicateSession);
    this.ended = true;
    this.socket.end(refusedLogonLogout(session.settings, text, this.acceptor.now()));
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  private tick(): void {
    if (this.session !== undefined && !this.ended)
      this.perform(this.session.tick(this.acceptor.now(), this.socketPaused));
  }

  /** An application message while flow control holds them (or older ones still wait): kept, in order. */
  private hold(m: FixMessage): void {
    if (this.heldHead === this.held.length) this.resetWhileHeld = false;
    const bytes = m.copy();
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (!this.socketPaused && (this.held.length - this.heldHead >= this.maxHeld || this.heldBytes >= MAX_HELD_BYTES)) {
      this.socketPaused = true;
      this.socket.pause();
    }
  }

  /** Hands held messages over, oldest first, until flow control pauses again; then reads on. */
  private releaseHeld(): void {
    this.releaseScheduled = false;
    while (!this.readPaused && !this.ended && this.heldHead < this.held.length) {
      const bytes = this.held[this.heldHead]!;
      this.held[this.heldHead++] = EMPTY;
      this.heldBytes -= bytes.length;
      // Parsed and checked by the session layer when it came: it parses again.
      if (this.heldParser.parse(bytes, 0, bytes.length) === ParseStatus.Message)
        this.deps.application.message(this, this.heldParser.message);
    }
    if (this.heldHead === this.held.length) {
      this.held = [];
      this.heldHead = 0;
      this.heldBytes = 0;
    }
    if (this.socketPaused && !this.ended && this.held.length - this.heldHead < this.maxHeld / 2) {
      this.socketPaused = false;
      this.socket.resume();
    }
  }

  /**
   * The connection ended with messages still held: they were never handed over, so the
   * client must send them again. The next MsgSeqNum expected goes back to the oldest of
   * them; at its next Logon the client is asked to resend from there (ResendRequest).
   */
  private forgetHeld(): Promise<void> {
    const count = this.held.length - this.heldHead;
    const oldest = count > 0 ? this.held[this.heldHead]! : EMPTY;
    const from =
      this.heldParser.parse(oldest, 0, oldest.length) === ParseStatus.Message
        ? this.heldParser.message.int(Tag.MsgSeqNum, 0)
        : 0;
    this.held = [];
    this.heldHead = 0;
    this.heldBytes = 0;
    const session = this.session;
    if (count === 0 || session === undefined || this.store === undefined) return Promise.resolve();
    if (this.resetWhileHeld || !(from > 0)) {
      this.deps.logger.warn(
        { session: this.id, count },
        "held FIX messages dropped at disconnect after a sequence reset",
      );
      return Promise.resolve();
    }
    this.deps.logger.info(
      { session: this.id, count, from },
      "FIX session ended with held messages: the client resends them from their MsgSeqNum",
    );
    this.store.setSequences({ nextSenderSeq: session.sequences.nextSenderSeq, nextTargetSeq: from });
    const stored = this.writes.then(() => this.store!.commit());
    stored.catch((e: unknown) =>
      this.deps.logger.error({ session: this.id, err: String(e) }, "held messages' sequence number not stored"),
    );
    return stored;
  }

  private perform(actions: readonly SessionAction[]): void {
    // Copied: a handler may call send(), which reuses the session's action list.
    for (const a of [...actions]) {
      switch (a.type) {
        case "send":
          if (!this.ended) this.write(a.bytes);
          this.metrics.sent(this.id, msgTypeOf(a.bytes));
          break;
        case "store":
          this.store?.storeSent(a.seq, a.bytes);
          this.scheduleTurn();
          break;
        case "sequences":
          this.store?.setSequences(a.sequences);
          this.scheduleTurn();
          break;
        case "reset":
          this.resetWhileHeld = true;
          this.store?.reset();
          this.scheduleTurn();
          break;
        case "resend":
          this.metrics.resendRequested(this.id);
          this.resend(a.from, a.to);
          break;
        case "application":
          if (this.readPaused || this.heldHead < this.held.length) this.hold(a.message);
          else this.deps.application.message(this, a.message);
          break;
        case "loggedOn":
          this.wasLoggedOn = true;
          this.metrics.sessionUp(this.id);
          this.deps.logger.info({ session: this.id, heartBtInt: a.heartBtIntSeconds }, "FIX session logged on");
          this.deps.application.loggedOn(this);
          break;
        case "rejected":
          this.metrics.rejected(this.id, a.reason);
          this.deps.logger.info({ session: this.id, reason: a.reason, text: a.text }, "FIX message rejected");
          break;
        case "disconnect":
          this.endAs(a.end);
          this.deps.logger.info({ session: this.id, reason: a.reason, end: a.end }, "FIX session ending");
          this.ended = true;
          this.endAfterWrites = true;
          this.scheduleTurn();
          break;
      }
    }
  }

  /** A message of this turn: written when the turn is stored. */
  private write(bytes: Buffer): void {
    this.outbox.push(bytes);
    this.scheduleTurn();
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    // After the event loop's I/O phase: every answer and message that phase brought (many at
    // a high rate) is one turn, one commit and one write.
    setImmediate(() => this.endTurn());
  }

  /**
   * The end of a turn (everything one event made the session do): the store commits it
   * (its messages and sequence numbers, one round trip), and only then are its messages
   * written, in one syscall (corked). A message is never sent before it is stored; a
   * store that fails ends the connection, and the client's next Logon resumes from what
   * was stored (what was not stored was not sent).
   */
  private endTurn(): void {
    this.turnScheduled = false;
    const batch = this.outbox;
    this.outbox = [];
    const end = this.endAfterWrites;
    this.endAfterWrites = false;
    const stored = this.store?.commit() ?? Promise.resolve();
    stored.catch(() => undefined); // handled below, once the turns before it are written
    this.writes = this.writes.then(
      () =>
        stored.then(
          () => {
            if (this.socket.destroyed) return;
            if (batch.length > 0) {
              this.socket.cork();
              for (const bytes of batch) this.socket.write(bytes);
              this.socket.uncork();
            }
            if (end) {
              this.socket.end();
              setTimeout(() => this.socket.destroy(), 1_000).unref();
            }
          },
          (e: unknown) => {
            this.deps.logger.error({ session: this.id, err: String(e) }, "FIX session state not stored: disconnecting");
            this.endAs(SessionEnd.StoreFailure);
            this.ended = true;
            this.socket.destroy();
          },
        ),
      () => undefined,
    );
  }

  private resend(from: number, to: number): void {
    const store = this.store;
    if (store === undefined) return;
    store.sent(from, to).then(
      (stored) => {
        if (this.session !== undefined && !this.ended)
          this.perform(this.session.resend(from, to, stored, this.acceptor.now()));
      },
      (e: unknown) => this.deps.logger.error({ session: this.id, err: String(e) }, "cannot read stored FIX messages"),
    );
  }

  private drop(reason: string, end: SessionEnd): void {
    this.endAs(end);
    this.deps.logger.info({ session: this.id, reason, remote: this.socket.remoteAddress }, "FIX connection refused");
    this.ended = true;
    this.socket.destroy();
  }

  private endAs(end: SessionEnd): void {
    this.endedAs ??= end;
  }
}

const EMPTY = Buffer.alloc(0);

/** The subject CN of the client certificate this TLS connection verified; undefined otherwise. */
export function verifiedPeer(socket: Socket): string | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  return typeof cn === "string" && cn !== "" ? cn : undefined;
}

/** MsgType of an encoded message (the field after 8= and 9=), for metrics. */
function msgTypeOf(bytes: Buffer): string {
  const at = bytes.indexOf("\x0135=") + 4;
  if (at < 4) return "";
  const end = bytes.indexOf(1, at);
  return bytes.toString("latin1", at, end);
}
