import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Metadata, sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { JournalQueryService, type JournalQueryServer } from "@tradeplane/contracts";
import { createLogger, Health, startGrpcServer, type GrpcServer } from "@tradeplane/platform";
import { run } from "../../src/main.ts";

/**
 * Which bearer token each `tradeplane journal` command sends: a real gRPC server on loopback
 * serving JournalQuery, whose handlers record the token and answer empty. What a token may
 * read is the journal's to decide (services/journal/test/service/journal-query.test.ts).
 */

const TRADING = "trading-token-of-account-a";
const ADMIN = "read-only-admin-token-0123";
const dir = mkdtempSync(join(tmpdir(), "tp-journal-token-"));
const tradingFile = join(dir, "a.token");
const adminFile = join(dir, "admin.token");
writeFileSync(tradingFile, `${TRADING}\n`, { mode: 0o600 });
writeFileSync(adminFile, `${ADMIN}\n`, { mode: 0o600 });

const seen: { method: string; token: string; account: string }[] = [];
let server: GrpcServer;

function answer<Req, Res>(method: string, res: Res) {
  return (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
    const auth = String((call.metadata as Metadata).get("authorization")[0] ?? "");
    const account = (call.request as { account?: string }).account ?? "";
    seen.push({ method, token: auth.replace(/^Bearer /, ""), account });
    cb(null, res);
  };
}

beforeAll(async () => {
  const implementation: JournalQueryServer = {
    listTrades: answer("ListTrades", { executions: [], more: false }),
    getOrderAuditTrail: answer("GetOrderAuditTrail", {
      orderId: 12_000,
      instrument: "RELIANCE",
      account: "A",
      events: [],
    }),
    getOrderToTradeRatio: answer("GetOrderToTradeRatio", { tradingDay: "2026-12-03", ratios: [] }),
    getTradeRegister: answer("GetTradeRegister", {
      tradingDay: "2026-12-03",
      trades: [],
      more: false,
      currency: "INR",
      notionalExponent: -2,
    }),
    getClearingObligations: answer("GetClearingObligations", {
      tradingDay: "2026-12-03",
      settlementDate: "2026-12-04",
      securities: [],
      funds: [],
      currency: "INR",
      notionalExponent: -2,
    }),
  };
  server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    health: new Health(),
    logger: createLogger({ service: "journal-token-test", level: "silent" }),
    reflection: false,
    services: [{ name: "tradeplane.v1.JournalQuery", definition: JournalQueryService, implementation }],
  });
}, 30_000);

afterAll(() => server?.close());

describe("the token tradeplane journal sends", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    seen.length = 0;
  });

  const silence = () => {
    // Whatever tokens the machine's environment holds, each case sets its own ("" = unset).
    for (const name of ["TP_TOKEN", "TP_TOKEN_FILE", "TP_ADMIN_TOKEN", "TP_ADMIN_TOKEN_FILE"]) vi.stubEnv(name, "");
    let stderr = "";
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    return () => stderr;
  };
  const target = () => ["--data-dir", dir, "--endpoint", `127.0.0.1:${server.port}`];

  it.each([
    ["trades", ["journal", "trades"], "ListTrades"],
    ["an audit trail", ["journal", "audit", "12000"], "GetOrderAuditTrail"],
    ["obligations", ["journal", "obligations", "--day", "2026-12-03"], "GetClearingObligations"],
    ["ratios", ["journal", "otr", "--day", "2026-12-03"], "GetOrderToTradeRatio"],
  ])(
    "reads its own %s with the trading token of --token-file, even with an admin token set",
    async (_n, args, method) => {
      silence();
      vi.stubEnv("TP_ADMIN_TOKEN", ADMIN);
      expect(await run([...target(), "--token-file", tradingFile, ...args])).toBe(0);
      expect(seen).toEqual([{ method, token: TRADING, account: "" }]);
    },
  );

  it.each([
    ["an admin token file alone", ["--admin-token-file", adminFile], {}, ADMIN],
    ["an admin token file and TP_TOKEN", ["--admin-token-file", adminFile], { TP_TOKEN: TRADING }, ADMIN],
    ["TP_ADMIN_TOKEN and TP_TOKEN", [], { TP_ADMIN_TOKEN: ADMIN, TP_TOKEN: TRADING }, ADMIN],
    ["TP_TOKEN_FILE and no admin token", [], { TP_TOKEN_FILE: tradingFile }, TRADING],
  ])("given %s, sends the expected token", async (_n, flags, env, token) => {
    silence();
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    expect(await run([...target(), ...flags, "journal", "trades", "--account", "A"])).toBe(0);
    expect(seen).toEqual([{ method: "ListTrades", token, account: "A" }]);
  });

  it("asks for the admin token for the register, whatever trading token is given", async () => {
    const stderr = silence();
    expect(await run([...target(), "--token-file", tradingFile, "journal", "register", "--day", "2026-12-03"])).toBe(4);
    expect(stderr()).toContain("no admin token");
    expect(seen).toEqual([]);
    expect(
      await run([
        ...target(),
        "--token-file",
        tradingFile,
        "--admin-token-file",
        adminFile,
        "journal",
        "register",
        "--day",
        "2026-12-03",
      ]),
    ).toBe(0);
    expect(seen).toEqual([{ method: "GetTradeRegister", token: ADMIN, account: "" }]);
  });
});
