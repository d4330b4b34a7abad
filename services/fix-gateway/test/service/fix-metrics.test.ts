// Why FIX connections end, as tp_fix_session_ends_total counts it: a real acceptor over TCP
// with its state in JetStream, a client doing each thing that ends a connection.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { Registry } from "prom-client";
import { fixSessionsBucket } from "@tradeplane/contracts";
import { createLogger, JetStreamAsyncPublisher, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { connectTo, NatsServer } from "@tradeplane/testkit";
import { FixAcceptor, type AcceptorSession, type ApplicationHandler } from "../../src/adapters/fix-acceptor.ts";
import { FixMetrics } from "../../src/adapters/fix-metrics.ts";
import { SessionStore } from "../../src/adapters/session-store.ts";
import { DEFAULT_SESSION_SETTINGS, SessionEnd } from "../../src/domain/session.ts";
import { FixClient } from "../support/fix-client.ts";

const VENUE = "fixends";
const logger = createLogger({
  service: "test",
  level: "warn",
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});
const sessions: AcceptorSession[] = [
  { id: "client-a", settings: { ...DEFAULT_SESSION_SETTINGS, senderCompId: "VENUE", targetCompId: "CLIENT" } },
];
const quiet: ApplicationHandler = { loggedOn() {}, disconnected() {}, message() {} };

let server: NatsServer;
let nc: NatsConnection;
let acks: JetStreamAsyncPublisher;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connectTo(server.url);
  acks = new JetStreamAsyncPublisher(nc, 5_000);
  await provision(nc, venueProvisioningPlan({ venue: VENUE }));
});
afterAll(async () => {
  acks?.close();
  await nc?.close();
  await server?.stop();
});

/** A fresh acceptor counting into a registry of its own. */
async function startAcceptor(): Promise<{ acceptor: FixAcceptor; port: number; registry: Registry }> {
  const kv = await new Kvm(nc).open(fixSessionsBucket(VENUE));
  const registry = new Registry();
  const acceptor = new FixAcceptor({
    sessions,
    openStore: (id) => new SessionStore(kv, id, { nc, bucket: fixSessionsBucket(VENUE), acks }),
    application: quiet,
    logger,
    metrics: new FixMetrics(registry),
    tickMs: 100,
  });
  return { acceptor, port: await acceptor.listen("127.0.0.1", 0), registry };
}

/** tp_fix_session_ends_total as `session reason` -> count. */
async function ends(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await registry.getSingleMetric("tp_fix_session_ends_total")!.get()).values)
    out[`${v.labels.session} ${v.labels.reason}`] = v.value;
  return out;
}

/** Polls until the counted ends include `expected` (the socket's close event may come after the client saw it). */
async function endsInclude(registry: Registry, expected: Record<string, number>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const now = await ends(registry);
    if (Object.entries(expected).every(([k, n]) => now[k] === n)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(await ends(registry)).toMatchObject(expected);
}

const logon = (c: FixClient, heartBtInt = 30) => c.send("A", `98=0|108=${heartBtInt}|141=Y`);

describe("tp_fix_session_ends_total: why each connection ended", () => {
  const cases: {
    name: string;
    end: SessionEnd;
    session: string;
    run: (port: number, acceptor: FixAcceptor) => Promise<void>;
  }[] = [
    {
      name: "the client's Logout",
      end: SessionEnd.ClientLogout,
      session: "client-a",
      async run(port) {
        const c = await FixClient.logon(port, "CLIENT");
        c.send("5");
        await c.waitClosed();
      },
    },
    {
      name: "a MsgSeqNum lower than expected",
      end: SessionEnd.SeqTooLow,
      session: "client-a",
      async run(port) {
        const c = await FixClient.logon(port, "CLIENT");
        c.seq = 1;
        c.send("0");
        expect(await c.waitFor((f) => f[35] === "5")).toMatchObject({ 58: expect.stringContaining("too low") });
        await c.waitClosed();
      },
    },
    {
      name: "a second connection for a logged-on session",
      end: SessionEnd.DuplicateSession,
      session: "client-a",
      async run(port) {
        const first = await FixClient.logon(port, "CLIENT");
        const second = await FixClient.connect(port);
        logon(second);
        await second.waitClosed();
        first.close();
      },
    },
    {
      name: "a Logon naming no configured session",
      end: SessionEnd.UnknownSession,
      session: "unknown",
      async run(port) {
        const c = await FixClient.connect(port);
        c.send("A", "98=0|108=30", { sender: "NOBODY" });
        await c.waitClosed();
      },
    },
    {
      name: "a Logon the session refuses (HeartBtInt out of range)",
      end: SessionEnd.LogonRefused,
      session: "client-a",
      async run(port) {
        const c = await FixClient.connect(port);
        logon(c, 0);
        await c.waitClosed();
      },
    },
    {
      name: "a first message that is not a Logon",
      end: SessionEnd.LogonRefused,
      session: "unknown",
      async run(port) {
        const c = await FixClient.connect(port);
        c.send("D", "11=x");
        await c.waitClosed();
      },
    },
    {
      name: "the gateway stopping",
      end: SessionEnd.ServerStop,
      session: "client-a",
      async run(port, acceptor) {
        const c = await FixClient.logon(port, "CLIENT");
        await acceptor.close(200);
        await c.waitClosed();
      },
    },
    {
      name: "the client closing its socket without a Logout",
      end: SessionEnd.SocketClosed,
      session: "client-a",
      async run(port) {
        const c = await FixClient.logon(port, "CLIENT");
        c.close();
        await c.waitClosed();
      },
    },
    {
      name: "an unanswered TestRequest",
      end: SessionEnd.HeartbeatTimeout,
      session: "client-a",
      async run(port) {
        // HeartBtInt 1 s: a TestRequest after ~1.2 s of silence, the end ~1.2 s later.
        const c = await FixClient.connect(port);
        logon(c, 1);
        expect(await c.waitFor((f) => f[35] === "1")).toBeDefined();
        await c.waitClosed();
      },
    },
  ];

  it.each(cases)("$name: $session $end", async ({ end, session, run }) => {
    const { acceptor, port, registry } = await startAcceptor();
    try {
      await run(port, acceptor);
      await endsInclude(registry, { [`${session} ${end}`]: 1 });
    } finally {
      await acceptor.close(200);
    }
  });
});
