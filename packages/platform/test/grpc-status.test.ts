import { describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  grpcStatusOf,
  NotFoundError,
  RevisionConflictError,
  toGrpcError,
} from "../src/index.ts";

describe("grpcStatusOf", () => {
  it.each([
    ["maps an existing name to ALREADY_EXISTS", new AlreadyExistsError("account a exists"), status.ALREADY_EXISTS],
    ["maps a stale revision to ABORTED", new RevisionConflictError("stale"), status.ABORTED],
    [
      "maps a refused state change to FAILED_PRECONDITION",
      new FailedPreconditionError("open orders"),
      status.FAILED_PRECONDITION,
    ],
    ["maps a missing thing to NOT_FOUND", new NotFoundError("no account"), status.NOT_FOUND],
    ["maps anything else to INTERNAL", new Error("boom"), status.INTERNAL],
  ])("%s", (_name, err, code) => {
    expect(grpcStatusOf(err)).toBe(code);
  });

  it("passes our messages to the client and hides foreign ones", () => {
    expect(toGrpcError(new RevisionConflictError("read it again")).details).toBe("read it again");
    expect(toGrpcError(new Error("secret")).details).toBe("internal error");
  });
});
