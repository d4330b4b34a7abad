import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { fixSessionsBucket } from "@tradeplane/contracts";
import { createLogger, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { connectTo, NatsServer, ThrowawayPki } from "@tradeplane/testkit";
import { FixAcceptor, type ApplicationHandler, type AcceptorSession } from "../../src/adapters/fix-acceptor.ts";
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

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connectTo(server.url);
  await provision(nc, venueProvisioningPlan({ venue: VENUE }));
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

async function startAcceptor(tls?: {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}): Promise<{ acceptor: FixAcceptor; port: number }> {
  const kv = await new Kvm(nc).open(fixSessionsBucket(VENUE));
  const acceptor = new FixAcceptor({
    sessions,
    openStore: (id) => new SessionStore(kv, id, { nc, bucket: fixSessionsBucket(VENUE) }),
    application: echo,
    logger,
    tickMs: 100,
    ...(tls === undefined ? {} : { tls }),
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
      openStore: (id) => new SessionStore(broken, id, { nc, bucket }),
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
});
