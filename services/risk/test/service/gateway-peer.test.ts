import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import type { ForwardRequest } from "@tradeplane/contracts";
import { UnavailableError } from "@tradeplane/platform";
import { NotOwnerError, PeerClients, PeerTokens } from "../../src/adapters/gateway-peer.ts";
import {
  forwardCall,
  FORWARDED_SUBMIT,
  PEER_TOKEN,
  startPeerServer,
  SUBMITTED,
  type PeerServer,
} from "./peer-fixture.ts";

const TOKEN = PEER_TOKEN;
const NEXT_TOKEN = "the-next-peer-token-0123456789abcdefgh";

/** A GatewayPeer server over real gRPC on loopback whose owner answers from a table. */
describe("GatewayPeer between replicas", () => {
  let peer: PeerServer;
  beforeAll(async () => {
    peer = await startPeerServer({
      // Rotation: the old token and the next one are both accepted.
      tokens: [TOKEN, NEXT_TOKEN],
      answer: (req) => {
        if (req.account === "elsewhere") throw new NotOwnerError(req.account);
        return SUBMITTED;
      },
    });
  });
  afterAll(async () => {
    await peer?.server.close();
  });

  const submit = FORWARDED_SUBMIT;
  const raw = (token: string | undefined, request: ForwardRequest = submit) =>
    forwardCall(peer.address, { token, request });

  it.each([
    ["no token", undefined],
    ["a wrong token", "not-the-peer-token-0123456789abcdefghij"],
    ["an account's trading token", "alice-token-0123456789"],
  ])("refuses a call with %s: UNAUTHENTICATED, and the owner decides nothing", async (_name, token) => {
    const before = peer.seen.length;
    const answer = await raw(token);
    expect((answer as ServiceError).code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(peer.seen.length).toBe(before);
  });

  it("accepts every token of the venue's list (rotation) and hands the request to the owner as sent", async () => {
    for (const token of [TOKEN, NEXT_TOKEN]) expect(await raw(token)).toEqual(SUBMITTED);
    expect(peer.seen.at(-1)).toEqual(submit);
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
      await expect(peers.forward(peer.address, { ...submit, account: "elsewhere" })).rejects.toBeInstanceOf(
        NotOwnerError,
      );
      expect(await peers.forward(peer.address, submit)).toEqual(SUBMITTED);
    } finally {
      peers.close();
    }
  });

  it("a replica with a wrong token (misconfigured) or an owner that is gone is UNAVAILABLE to the client: retry", async () => {
    const wrong = new PeerClients(new PeerTokens(["a-token-nobody-accepts-0123456789abcdef"]), 5_000);
    const gone = new PeerClients(new PeerTokens([TOKEN]), 2_000);
    try {
      await expect(wrong.forward(peer.address, submit)).rejects.toBeInstanceOf(UnavailableError);
      await expect(gone.forward("127.0.0.1:1", submit)).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      wrong.close();
      gone.close();
    }
  });
});
