// A client that reconnects at once after a drop (QuickFIX does) meets the old connection
// still storing the session's sequence numbers. The store is the real one over a real
// nats-server; only its commit can be held at the adapter seam, so the store window is as
// long as the test needs and the race happens every run.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { fixSessionsBucket } from "@tradeplane/contracts";
import { createLogger, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { connectTo, NatsServer } from "@tradeplane/testkit";
import { FixAcceptor, type ApplicationHandler, type AcceptorSession } from "../../src/adapters/fix-acceptor.ts";
import { SessionStore, type StorePublisher } from "../../src/adapters/session-store.ts";
import { DEFAULT_SESSION_SETTINGS } from "../../src/domain/session.ts";
import { FixClient } from "../support/fix-client.ts";

const VENUE = "fixreconnect";
const PASSWORD = "s3cret-logon";
const sessions: AcceptorSession[] = [
  { id: "quick", settings: { ...DEFAULT_SESSION_SETTINGS, senderCompId: "VENUE", targetCompId: "CLIENT" } },
  {
    id: "guarded",
    settings: { ...DEFAULT_SESSION_SETTINGS, senderCompId: "VENUE", targetCompId: "GUARDED", password: PASSWORD },
  },
];

/** Holds every store commit issued while it is held, until opened. */
class StoreGate {
  held = false;
  /** Resolves when a commit arrives while held (the store window is open). */
  entered: Promise<void> = Promise.resolve();
  private enter: () => void = () => undefined;
  private opened: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  hold(): void {
    this.held = true;
    this.entered = new Promise((r) => (this.enter = r));
    this.opened = new Promise((r) => (this.release = r));
  }

  open(): void {
    this.held = false;
    this.release();
  }

  pass(commit: () => Promise<void>): Promise<void> {
    if (!this.held) return commit();
    this.enter();
    return this.opened.then(commit);
  }
}

/** The real store, whose commits wait while the gate is held. */
class GatedStore extends SessionStore {
  private readonly gate: StoreGate;

  constructor(kv: KV, id: string, publisher: StorePublisher, gate: StoreGate) {
    super(kv, id, publisher);
    this.gate = gate;
  }

  override commit(): Promise<void> {
    return this.gate.pass(() => super.commit());
  }
}

/** Hands the first order over and pauses, so the next ones are held (flow control), as the in-flight bound does. */
const pausing: ApplicationHandler = {
  loggedOn() {},
  disconnected() {},
  message(link) {
    link.pauseReading();
  },
};

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connectTo(server.url);
  await provision(nc, venueProvisioningPlan({ venue: VENUE }));
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

async function startAcceptor(teardownWaitMs?: number) {
  const bucket = fixSessionsBucket(VENUE);
  const kv = await new Kvm(nc).open(bucket);
  const gate = new StoreGate();
  const logLines: string[] = [];
  const logger = createLogger({
    service: "test",
    level: "info",
    destination: new Writable({
      write: (chunk: Buffer, _e, cb) => {
        logLines.push(chunk.toString());
        cb();
      },
    }),
  });
  const acceptor = new FixAcceptor({
    sessions,
    openStore: (id) => new GatedStore(kv, id, { nc, bucket }, gate),
    application: pausing,
    logger,
    tickMs: 100,
    ...(teardownWaitMs === undefined ? {} : { teardownWaitMs }),
  });
  const port = await acceptor.listen("127.0.0.1", 0);
  /** Resolves once the acceptor logged a line containing `text`, or the client closed. */
  const logged = async (text: string, client: FixClient): Promise<void> => {
    for (let i = 0; i < 400 && !client.closed && !logLines.some((l) => l.includes(text)); i++)
      await new Promise((r) => setTimeout(r, 25));
  };
  return { acceptor, port, gate, logged };
}

/**
 * Logs on (resetting), has one order handed over and one held, then drops the connection
 * with the gate held: the acceptor is left storing the rewound sequence numbers (the next
 * one expected goes back to the held order's, 3). The client's next MsgSeqNum is 5.
 */
async function dropWithHeldOrder(port: number, gate: StoreGate): Promise<void> {
  const client = await FixClient.connect(port);
  client.send("A", "98=0|108=30|141=Y");
  await client.waitFor((f) => f[35] === "A");
  client.send("D", "11=handed"); // 2: handed over, pauses
  client.send("D", "11=held"); // 3: held
  client.send("1", "112=probe"); // 4: answered at once, so 3 has been read
  await client.waitFor((f) => f[112] === "probe");
  gate.hold();
  client.close();
  await gate.entered;
}

describe("FixAcceptor when a client reconnects while its last connection is closing", () => {
  it("holds a Logon that comes while the dropped connection stores its rewound sequence numbers, then resumes from them", async () => {
    const { acceptor, port, gate, logged } = await startAcceptor();
    await dropWithHeldOrder(port, gate);

    const again = await FixClient.connect(port, 5);
    again.send("A", "98=0|108=30");
    await logged("waits for the session's previous connection", again);
    expect(again.closed).toBe(false); // not refused as "already connected"
    gate.open();
    // Our numbers go on after the old connection's Logon (1) and Heartbeat (2).
    expect(await again.waitFor((f) => f[35] === "A")).toMatchObject({ 34: "3" });
    // The stored rewind is what the Logon loaded: the held order is asked for again.
    expect(await again.waitFor((f) => f[35] === "2")).toMatchObject({ 7: "3", 16: "0" });
    expect(acceptor.loggedOn).toEqual(["quick"]);
    again.close();
    await acceptor.close();
  });

  it("logs a waiting Logon out, saying why, when the previous connection does not finish closing in time", async () => {
    const { acceptor, port, gate } = await startAcceptor(200);
    await dropWithHeldOrder(port, gate);

    const early = await FixClient.connect(port, 5);
    early.send("A", "98=0|108=30");
    const logout = await early.waitFor((f) => f[35] === "5");
    expect(logout[58]).toBe("the session's previous connection is still closing: log on again later");
    await early.waitClosed();
    expect(early.received.map((f) => f[35])).toEqual(["5"]);

    gate.open();
    const later = await FixClient.connect(port, 5);
    later.send("A", "98=0|108=30");
    await later.waitFor((f) => f[35] === "A");
    expect(await later.waitFor((f) => f[35] === "2")).toMatchObject({ 7: "3" });
    later.close();
    await acceptor.close();
  });

  it("logs a second connection of a live session out saying why, only when it carries the session's credentials", async () => {
    const { acceptor, port } = await startAcceptor();
    const live = await FixClient.connect(port);
    live.send("A", `98=0|108=30|141=Y|554=${PASSWORD}`, { sender: "GUARDED" });
    await live.waitFor((f) => f[35] === "A");

    const attempt = async (sender: string, password: string) => {
      const c = await FixClient.connect(port);
      c.send("A", `98=0|108=30|141=Y|554=${password}`, { sender });
      await c.waitClosed();
      return c.received.map((f) => ({ msgType: f[35], text: f[58], sender: f[49], target: f[56] }));
    };
    const table: [string, string, string, unknown[]][] = [
      [
        "the session's client again",
        "GUARDED",
        PASSWORD,
        [
          {
            msgType: "5",
            text: "session already logged on from another connection",
            sender: "VENUE",
            target: "GUARDED",
          },
        ],
      ],
      ["someone without the session's password", "GUARDED", "guess", []],
      ["unknown CompIDs", "NOBODY", PASSWORD, []],
    ];
    for (const [who, sender, password, expected] of table)
      expect({ who, answer: await attempt(sender, password) }).toEqual({ who, answer: expected });

    // The live session did not notice.
    live.send("1", "112=still-mine", { sender: "GUARDED" });
    expect(await live.waitFor((f) => f[112] === "still-mine")).toMatchObject({ 35: "0" });
    expect(acceptor.loggedOn).toEqual(["guarded"]);
    live.close();
    await acceptor.close();
  });
});
