import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, UnavailableError } from "@tradeplane/platform";
import { NatsServer, ThrowawayPki } from "@tradeplane/testkit";
import { parseOperatorArgs } from "../../src/config.ts";
import { connectOperatorNats } from "../../src/nats-connection.ts";

const logger = createLogger({ service: "test", level: "silent" });

/**
 * The operator's NATS connection as its flags ask for it, against real nats-servers: one
 * plaintext, one serving TLS with a certificate of a throwaway CA. `--nats-tls` must mean TLS
 * or no connection: never plaintext to a server that does not offer TLS.
 */
describe("the operator's NATS connection", () => {
  let pki: ThrowawayPki;
  let plain: NatsServer;
  let tls: NatsServer;

  beforeAll(async () => {
    pki = await ThrowawayPki.create();
    [plain, tls] = await Promise.all([NatsServer.start(), NatsServer.start({ tls: await pki.server() })]);
  });

  afterAll(async () => {
    await plain?.dispose();
    await tls?.dispose();
    await pki?.dispose();
  });

  const connect = async (url: string, ...flags: string[]) => {
    const nc = await connectOperatorNats(parseOperatorArgs(["--nats-url", url, ...flags], {}), logger);
    const secure = nc.info?.tls_required === true;
    await nc.close();
    return secure;
  };

  it("connects over TLS verified against the CA it is given", async () => {
    expect(await connect(tls.url, "--nats-tls", "--nats-tls-ca-file", pki.ca.certFile)).toBe(true);
  });

  it.each([
    ["a server that does not offer TLS", () => [plain.url], /server does not support 'tls'/],
    ["a server whose certificate the system's CAs do not trust", () => [tls.url], /unable to verify/],
    [
      "a server that does not offer TLS, even with a CA",
      () => [plain.url, "--nats-tls-ca-file", pki.ca.certFile],
      /server does not support 'tls'/,
    ],
  ])("with --nats-tls refuses %s", async (_name, args, why) => {
    const [url, ...flags] = args();
    const refused = connect(url!, "--nats-tls", ...flags);
    await expect(refused).rejects.toBeInstanceOf(UnavailableError);
    await expect(refused).rejects.toThrow(why);
  });

  it("without TLS flags talks plaintext to a plaintext server, even at a tls:// URL (what --nats-tls is for)", async () => {
    expect(plain.url).toMatch(/^nats:\/\//);
    expect(await connect(plain.url.replace(/^nats:/, "tls:"))).toBe(false);
  });
});
