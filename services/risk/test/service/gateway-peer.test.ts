import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import {
  GatewayPeerClient,
  GatewayPeerService,
  type ForwardRequest,
  type ForwardResponse,
} from "@tradeplane/contracts";
import { createLogger, Health, startGrpcServer, UnavailableError, type GrpcServer } from "@tradeplane/platform";
import { gatewayPeerService, NotOwnerError, PeerClients, PeerTokens } from "../../src/adapters/gateway-peer.ts";
import { order } from "./gateway-fixture.ts";

const logger = createLogger({ service: "risk-test", level: "silent" });
const TOKEN = "peer-token-of-the-venue-0123456789abcdef";
const NEXT_TOKEN = "the-next-peer-token-0123456789abcdefgh";

/** A GatewayPeer server over real gRPC on loopback whose owner answers from a table. */
describe("GatewayPeer between replicas", () => {
  let server: GrpcServer;
  const seen: ForwardRequest[] = [];
  beforeAll(async () => {
    server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      health: new Health(),
      logger,
      reflection: false,
      services: [
        {
          name: "tradeplane.v1.GatewayPeer",
          definition: GatewayPeerService,
          implementation: gatewayPeerService({
            // Rotation: the old token and the next one are both accepted.
            tokens: new PeerTokens([TOKEN, NEXT_TOKEN]),
            logger,
            handle: async (req): Promise<ForwardResponse> => {
              seen.push(req);
              if (req.account === "elsewhere") throw new NotOwnerError(req.account);
              return { response: { $case: "submit", value: { reports: [] } } };
            },
          }),
        },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const submit: ForwardRequest = {
    account: "alice",
    principal: "alice",
    fromReplica: "gw1-abc",
    request: { $case: "submit", value: order({ account: "alice" }) },
  };
  const raw = (token: string | undefined, req: ForwardRequest = submit): Promise<ServiceError | ForwardResponse> => {
    const client = new GatewayPeerClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const metadata = new Metadata();
    if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
    return new Promise((resolve) =>
      client.forward(req, metadata, (err, res) => {
        client.close();
        resolve(err ?? res);
      }),
    );
  };

  it.each([
    ["no token", undefined],
    ["a wrong token", "not-the-peer-token-0123456789abcdefghij"],
    ["an account's trading token", "alice-token-0123456789"],
  ])("refuses a call with %s: UNAUTHENTICATED, and the owner decides nothing", async (_name, token) => {
    const before = seen.length;
    const answer = await raw(token);
    expect((answer as ServiceError).code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(seen.length).toBe(before);
  });

  it("accepts every token of the venue's list (rotation) and hands the request to the owner as sent", async () => {
    for (const token of [TOKEN, NEXT_TOKEN])
      expect(await raw(token)).toEqual({ response: { $case: "submit", value: { reports: [] } } });
    expect(seen.at(-1)).toEqual(submit);
  });

  it("refuses a call without a request: INVALID_ARGUMENT", async () => {
    const answer = await raw(TOKEN, { ...submit, request: undefined });
    expect((answer as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it("answers FAILED_PRECONDITION for an account the replica does not own, which the client side turns into NotOwnerError", async () => {
    expect(((await raw(TOKEN, { ...submit, account: "elsewhere" })) as ServiceError).code).toBe(
      GrpcStatus.FAILED_PRECONDITION,
    );
    const peers = new PeerClients(new PeerTokens([TOKEN]), 5_000);
    try {
      await expect(
        peers.forward(`127.0.0.1:${server.port}`, { ...submit, account: "elsewhere" }),
      ).rejects.toBeInstanceOf(NotOwnerError);
      expect(await peers.forward(`127.0.0.1:${server.port}`, submit)).toEqual({
        response: { $case: "submit", value: { reports: [] } },
      });
    } finally {
      peers.close();
    }
  });

  it("a replica with a wrong token (misconfigured) or an owner that is gone is UNAVAILABLE to the client: retry", async () => {
    const wrong = new PeerClients(new PeerTokens(["a-token-nobody-accepts-0123456789abcdef"]), 5_000);
    const gone = new PeerClients(new PeerTokens([TOKEN]), 2_000);
    try {
      await expect(wrong.forward(`127.0.0.1:${server.port}`, submit)).rejects.toBeInstanceOf(UnavailableError);
      await expect(gone.forward("127.0.0.1:1", submit)).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      wrong.close();
      gone.close();
    }
  });
});
