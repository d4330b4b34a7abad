import { describe, expect, it } from "vitest";
import {
  boundedStatusMessage,
  excerpt,
  MAX_REQUEST_REPEATED,
  MAX_REQUEST_STRING_CHARS,
  MAX_STATUS_MESSAGE_CHARS,
  requestBoundsProblem,
} from "../src/request-bounds.ts";

const long = "x".repeat(MAX_REQUEST_STRING_CHARS + 1);

describe("requestBoundsProblem", () => {
  it.each([
    ["passes a request whose fields are all within bounds", { account: "a", qty: 5, ids: ["x"] }, undefined],
    ["passes a string of exactly the longest length", { account: "x".repeat(MAX_REQUEST_STRING_CHARS) }, undefined],
    ["names a top-level string that is too long", { account: long }, "account: longer than 1024 characters"],
    [
      "names a string inside a oneof by its case",
      { target: { $case: "origClientOrderId", value: long } },
      "target.origClientOrderId: longer than 1024 characters",
    ],
    [
      "names a string inside a repeated message by its index",
      {
        requests: [
          { request: { $case: "submitOrder", value: { account: "" } } },
          { request: { $case: "cancelOrder", value: { account: long } } },
        ],
      },
      "requests[1].request.cancelOrder.account: longer than 1024 characters",
    ],
    [
      "refuses a repeated field with too many elements",
      { instruments: new Array<string>(MAX_REQUEST_REPEATED + 1).fill("A") },
      "instruments: more than 10000 elements",
    ],
    [
      "refuses a bytes field that is too long",
      { blob: new Uint8Array(MAX_REQUEST_REPEATED + 1) },
      "blob: longer than 10000 bytes",
    ],
    ["refuses a map key that is too long", { labels: { [long]: "v" } }, "labels: a key longer than 1024 characters"],
  ])("%s", (_name, request, expected) => {
    expect(requestBoundsProblem(request)).toBe(expected);
  });
});

describe("what answers repeat of client input", () => {
  it("an excerpt is quoted and cut to 40 characters", () => {
    expect(excerpt("x".repeat(1_000_000))).toBe(JSON.stringify(`${"x".repeat(40)}…`));
    expect(excerpt("ACME")).toBe('"ACME"');
  });

  it("a status message is cut to its bound", () => {
    expect(boundedStatusMessage("y".repeat(1_048_608))).toHaveLength(MAX_STATUS_MESSAGE_CHARS);
    expect(boundedStatusMessage("short")).toBe("short");
  });
});
