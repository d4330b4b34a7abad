import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { fixSessionsBucket } from "@tradeplane/contracts";
import { createLogger, JetStreamAsyncPublisher, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { connectTo, NatsServer, ThrowawayPki } from "@tradeplane/testkit";
import {
  FixAcceptor,
  type ApplicationHandler,
  type AcceptorSession,
  type SessionLink,
} from "../../src/adapters/fix-acceptor.ts";
import { SessionStore } from "../../src/adapters/session-store.ts";
import { DEFAULT_SESSION_SETTINGS } from "../../src/domain/session.ts";
import { FixClient } from "../support/fix-client.ts";
import { frame } from "../support/fix-text.ts";
import { fixTime } from "../support/session-harness.ts";

const VENUE = "fixtest";
const logger = createLogger({
  service: "test",
  level: "warn",
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});
const sessions: AcceptorSession[] = [
  { id: "client-a", settings: { ...DEFAULT_SESSION_SETTINGS, senderCompId: "VENUE", targetCompId: "CLIENT" } },
  { id: "client-b", settings: { ...DEFAULT_SESSION_SETTINGS, senderCompId: "VENUE", targetCompId: "OTHER" } },
  {
    id: "client-c",
    clientCertSubject: "broker-c",
    settings: { ...DEFAULT_SESSION_SETTINGS, senderCompId: "VENUE", targetCompId: "CERTED" },
  },
];

/** Echoes each NewOrderSingle as an ExecutionReport with its ClOrdID. */
const echo: ApplicationHandler = {
  loggedOn() {},
  disconnected() {},
  message(link, m) {
    const id = m.string(11) ?? "";
    link.send("8", (e) => e.string(11, id).char(150, 0x30).char(39, 0x30));
  },
};

let server: NatsServer;
let nc: NatsConnection;
/** State puts acknowledged through one publisher, as the gateway's main does. */
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

async function startAcceptor(
  tls?: {
    cert: Buffer;
    key: Buffer;
    ca?: Buffer;
  },
  application: ApplicationHandler = echo,
  maxHeldMessages?: number,
): Promise<{ acceptor: FixAcceptor; port: number }> {
  const kv = await new Kvm(nc).open(fixSessionsBucket(VENUE));
  const acceptor = new FixAcceptor({
    sessions,
    openStore: (id) => new SessionStore(kv, id, { nc, bucket: fixSessionsBucket(VENUE), acks }),
    application,
    logger,
    tickMs: 100,
    ...(tls === undefined ? {} : { tls }),
    ...(maxHeldMessages === undefined ? {} : { maxHeldMessages }),
  });
  return { acceptor, port: await acceptor.listen("127.0.0.1", 0) };
}

describe("FixAcceptor over TCP with the session state in JetStream", () => {
  it("logs on, answers, and after a gateway restart resumes the sequence numbers and resends from the store", async () => {
    let { acceptor, port } = await startAcceptor();
    let client = await FixClient.connect(port);
    client.send("A", "98=0|108=30|141=Y");
    expect(await client.waitFor((f) => f[35] === "A")).toMatchObject({ 34: "1", 141: "Y" });
    client.send("D", "11=ord-1");
    expect(await client.waitFor((f) => f[35] === "8")).toMatchObject({ 34: "2", 11: "ord-1" });
    // Stored before it was sent: the message is in the bucket by the time the client has it.
    const kv = await new Kvm(nc).open(fixSessionsBucket(VENUE));
    const { generation } = (await kv.get("client-a.state"))!.json<{ generation: number }>();
    expect((await kv.get(`client-a.g${generation}.2`))?.string()).toContain("\x0111=ord-1\x01");
    client.send("D", "11=ord-2");
    await client.waitFor((f) => f[11] === "ord-2");
    client.send("5");
    expect(await client.waitFor((f) => f[35] === "5")).toMatchObject({ 34: "4" });
    await client.waitClosed();
    await acceptor.close();

    ({ acceptor, port } = await startAcceptor());
    client = await FixClient.connect(port, 5);
    // Both sides go on from 5; the client asks for our 2 onwards again.
    client.send("A", "98=0|108=30");
    expect(await client.waitFor((f) => f[35] === "A")).toMatchObject({ 34: "5" });
    client.send("2", "7=2|16=0");
    const resent = await client.waitFor((f) => f[11] === "ord-1");
    expect(resent).toMatchObject({ 35: "8", 34: "2", 43: "Y" });
    expect(await client.waitFor((f) => f[11] === "ord-2")).toMatchObject({ 34: "3", 43: "Y" });
    expect(await client.waitFor((f) => f[35] === "4")).toMatchObject({ 34: "4", 123: "Y", 36: "6" });
    client.send("5");
    expect(await client.waitFor((f) => f[35] === "5")).toBeDefined();
    await client.waitClosed();
    await acceptor.close();
  });

  it("sends nothing of a turn it could not store, and disconnects", async () => {
    const kvm = new Kvm(nc);
    const bucket = `fixtest_broken_${Date.now()}`;
    const broken = await kvm.create(bucket);
    const acceptor = new FixAcceptor({
      sessions,
      openStore: (id) => new SessionStore(broken, id, { nc, bucket, acks }),
      application: echo,
      logger,
      tickMs: 100,
    });
    const port = await acceptor.listen("127.0.0.1", 0);
    const client = await FixClient.connect(port);
    client.send("A", "98=0|108=30|141=Y");
    await client.waitFor((f) => f[35] === "A");
    await broken.destroy(); // the store goes away under the logged-on session
    client.send("D", "11=never-stored");
    await client.waitClosed();
    expect(client.received.some((f) => f[11] === "never-stored")).toBe(false);
    await acceptor.close();
  });

  it("keeps each session to one connection, refuses unknown CompIDs, and survives garbage", async () => {
    const { acceptor, port } = await startAcceptor();
    const stranger = await FixClient.connect(port);
    stranger.send("A", "98=0|108=30", { sender: "NOBODY" });
    await stranger.waitClosed();

    const first = await FixClient.connect(port);
    first.raw(Buffer.from("garbage\x01\x01 8=FIX.4.4\x019=5\x01")); // dropped, not fatal
    first.send("A", "98=0|108=30|141=Y", { sender: "OTHER" });
    await first.waitFor((f) => f[35] === "A");
    const second = await FixClient.connect(port);
    second.send("A", "98=0|108=30|141=Y", { sender: "OTHER" });
    await second.waitClosed();
    // A message with a bad checksum is ignored; the next one is answered.
    first.raw(frame("35=D|49=OTHER|56=VENUE|34=2|52=20260301-12:00:00|11=x", { checksum: 1 }));
    first.send("1", "112=still-there", { sender: "OTHER" });
    expect(await first.waitFor((f) => f[35] === "0")).toMatchObject({ 112: "still-there" });
    expect(acceptor.loggedOn).toEqual(["client-b"]);
    first.close();
    await acceptor.close();
  });

  it("speaks FIX over TLS when configured", async () => {
    const pki = await ThrowawayPki.create();
    try {
      const cert = await pki.server();
      const { acceptor, port } = await startAcceptor({
        cert: readFileSync(cert.certFile),
        key: readFileSync(cert.keyFile),
      });
      const socket = tlsConnect({
        port,
        host: "127.0.0.1",
        ca: readFileSync(pki.ca.certFile),
        servername: "localhost",
      });
      await new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", resolve);
        socket.once("error", reject);
      });
      const received: string[] = [];
      socket.on("data", (d: Buffer) => received.push(d.toString("latin1")));
      socket.write(frame(`35=A|49=OTHER|56=VENUE|34=1|52=${fixTime(Date.now())}|98=0|108=30|141=Y`));
      for (let i = 0; i < 200 && !received.join("").includes("\x0135=A\x01"); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(received.join("")).toContain("\x0135=A\x01");
      socket.destroy();
      await acceptor.close();
    } finally {
      await pki.dispose();
    }
  });

  it("maps a verified client certificate's subject to the session that names it, and refuses the rest", async () => {
    const pki = await ThrowawayPki.create();
    const stranger = await ThrowawayPki.create("stranger-ca");
    try {
      const cert = await pki.server();
      const { acceptor, port } = await startAcceptor({
        cert: readFileSync(cert.certFile),
        key: readFileSync(cert.keyFile),
        ca: readFileSync(pki.ca.certFile),
      });
      const logOn = async (sender: string, client?: { certFile: string; keyFile: string }) => {
        const socket = tlsConnect({
          port,
          host: "127.0.0.1",
          ca: readFileSync(pki.ca.certFile),
          servername: "localhost",
          ...(client === undefined ? {} : { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) }),
        });
        let text = "";
        let closed = false;
        socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
        socket.on("close", () => (closed = true));
        socket.on("error", () => undefined);
        socket.write(frame(`35=A|49=${sender}|56=VENUE|34=1|52=${fixTime(Date.now())}|98=0|108=30|141=Y`));
        for (let i = 0; i < 400 && !closed && !text.includes("\x0135=A\x01"); i++)
          await new Promise((r) => setTimeout(r, 25));
        const answered = text.includes("\x0135=A\x01");
        socket.destroy();
        await new Promise((r) => setTimeout(r, 50)); // the session is free again
        return answered ? "logged on" : closed ? "refused" : "no answer";
      };
      const brokerC = await pki.client("broker-c");
      const someoneElse = await pki.client("broker-x");
      const forged = await stranger.client("broker-c");
      const table: [string, string, { certFile: string; keyFile: string } | undefined, string][] = [
        ["its own certificate", "CERTED", brokerC, "logged on"],
        ["another subject's certificate", "CERTED", someoneElse, "refused"],
        ["no certificate", "CERTED", undefined, "refused"],
        ["the same subject from an untrusted CA", "CERTED", forged, "refused"],
        ["a session that names no subject, without a certificate", "OTHER", undefined, "logged on"],
        ["a session that names no subject, with an untrusted certificate", "OTHER", forged, "refused"],
      ];
      for (const [what, sender, client, expected] of table)
        expect({ what, outcome: await logOn(sender, client) }).toEqual({ what, outcome: expected });
      await acceptor.close();
    } finally {
      await pki.dispose();
      await stranger.dispose();
    }
  });

  describe("paused for flow control", () => {
    /** Echoes each order and pauses the session after it, as the in-flight bound would; records what it was handed. */
    function pausing() {
      const state = { delivered: [] as string[], link: undefined as SessionLink | undefined };
      const handler: ApplicationHandler = {
        loggedOn(l) {
          state.link = l;
        },
        disconnected() {},
        message(l, m) {
          const id = m.string(11) ?? "";
          state.delivered.push(id);
          l.send("8", (e) => e.string(11, id).char(150, 0x30).char(39, 0x30));
          l.pauseReading();
        },
      };
      return { state, handler };
    }
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it("answers TestRequests and is not logged out while paused; holds orders and hands them over in order on resume", async () => {
      const { state, handler } = pausing();
      const { acceptor, port } = await startAcceptor(undefined, handler);
      const client = await FixClient.connect(port);
      client.send("A", "98=0|108=1|141=Y"); // HeartBtInt 1 s
      await client.waitFor((f) => f[35] === "A");
      client.send("D", "11=p-1");
      await client.waitFor((f) => f[11] === "p-1");
      client.send("D", "11=p-2");
      client.send("D", "11=p-3");
      client.send("1", "112=probe-1");
      expect(await client.waitFor((f) => f[112] === "probe-1")).toMatchObject({ 35: "0" });
      // Three HeartBtInts paused while the client keeps talking: it is heard, never probed nor logged out.
      for (let i = 0; i < 6; i++) {
        client.send("0");
        await sleep(500);
      }
      client.send("1", "112=probe-2");
      expect(await client.waitFor((f) => f[112] === "probe-2")).toMatchObject({ 35: "0" });
      expect(client.received.filter((f) => f[35] === "5" || f[35] === "1")).toEqual([]);
      expect(acceptor.loggedOn).toEqual(["client-a"]);
      expect(state.delivered).toEqual(["p-1"]);
      state.link!.resumeReading();
      await client.waitFor((f) => f[11] === "p-2");
      await sleep(100);
      expect(state.delivered).toEqual(["p-1", "p-2"]); // p-2 paused the session again
      state.link!.resumeReading();
      await client.waitFor((f) => f[11] === "p-3");
      expect(state.delivered).toEqual(["p-1", "p-2", "p-3"]);
      client.send("5");
      await client.waitFor((f) => f[35] === "5");
      await client.waitClosed();
      await acceptor.close();
    });

    it("past the bound of held messages stops reading without timing the client out; a disconnect makes the client resend what was held", async () => {
      const { state, handler } = pausing();
      let { acceptor, port } = await startAcceptor(undefined, handler, 2);
      let client = await FixClient.connect(port);
      client.send("A", "98=0|108=1|141=Y");
      await client.waitFor((f) => f[35] === "A");
      client.send("D", "11=h-1"); // 2: handed over, pauses
      await client.waitFor((f) => f[11] === "h-1");
      client.send("D", "11=h-2"); // 3: held
      client.send("D", "11=h-3"); // 4: held, the bound: the socket is paused
      await sleep(300);
      client.send("1", "112=unread"); // 5: waits unread in the socket
      // Three HeartBtInts without reading: our heartbeats go out, no TestRequest, no Logout.
      await sleep(3_000);
      expect(client.received.filter((f) => f[35] === "5" || f[35] === "1")).toEqual([]);
      expect(client.received.filter((f) => f[35] === "0").length).toBeGreaterThan(0);
      expect(client.received.some((f) => f[112] === "unread")).toBe(false); // not read: the socket is paused
      expect(acceptor.loggedOn).toEqual(["client-a"]);
      expect(state.delivered).toEqual(["h-1"]);
      // The connection drops with h-2 and h-3 held: at the next Logon the client is asked for them again.
      client.close();
      await acceptor.close();
      ({ acceptor, port } = await startAcceptor(undefined, pausing().handler));
      client = await FixClient.connect(port, 6);
      client.send("A", "98=0|108=30");
      await client.waitFor((f) => f[35] === "A");
      expect(await client.waitFor((f) => f[35] === "2")).toMatchObject({ 7: "3" });
      client.close();
      await acceptor.close();
    });
  });
});
