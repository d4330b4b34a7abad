import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, credentials, status, type Metadata } from "@grpc/grpc-js";
import {
  ExecType,
  KillSwitchScope,
  RejectReason,
  Side,
  StpMode,
  type Account,
  type CancelOrderResponse,
  type CreateAccountResponse,
  type GetAccountResponse,
  type GetLimitsResponse,
  type ListAccountsResponse,
  type ListKillSwitchesResponse,
  type ListOpenOrdersResponse,
  type RiskLimits,
  type SetLimitsResponse,
  type UpdateAccountResponse,
} from "@tradeplane/contracts";
import { prng, retry, unary } from "@tradeplane/testkit";
import { putToken, readAccount, revokeToken } from "@tradeplane/accounts";
import { ADMIN_TOKEN, auth, order, sample, scrape, startVenue, tokenOf, type Venue } from "./gateway-fixture.ts";

function account(overrides: Partial<Account>): Account {
  return {
    name: "",
    displayName: "",
    disabled: false,
    principals: [],
    defaultStpMode: 0,
    limits: undefined,
    revision: 0,
    createTime: undefined,
    updateTime: undefined,
    ...overrides,
  };
}

function limits(overrides: Partial<RiskLimits>): RiskLimits {
  return { restrictedInstruments: [], ...overrides };
}

describe("RiskAdmin accounts and limits over gRPC, stored in the accounts bucket", () => {
  let venue: Venue;
  const admin = ADMIN_TOKEN;

  beforeAll(async () => {
    venue = await startVenue({
      venue: "adm",
      accounts: [{ name: "maker" }],
      defaultLimits: { maxOrderQty: 1_000, priceCollarBps: 500 },
    });
  });

  afterAll(async () => {
    await venue?.close();
  });

  const create = (a: Partial<Account>, metadata: Metadata = auth(admin)) =>
    unary<CreateAccountResponse>((cb) => venue.admin.createAccount({ account: account(a) }, metadata, cb));
  const get = (name: string) => unary<GetAccountResponse>((cb) => venue.admin.getAccount({ name }, auth(admin), cb));
  const update = (a: Partial<Account>, expectedRevision: number) =>
    unary<UpdateAccountResponse>((cb) =>
      venue.admin.updateAccount({ account: account(a), expectedRevision }, auth(admin), cb),
    );
  const list = (pageSize: number, pageToken = "") =>
    unary<ListAccountsResponse>((cb) => venue.admin.listAccounts({ pageSize, pageToken }, auth(admin), cb));
  const getLimits = (name: string) =>
    unary<GetLimitsResponse>((cb) => venue.admin.getLimits({ account: name }, auth(admin), cb));
  const setLimits = (name: string, l: RiskLimits | undefined, expectedRevision = 0) =>
    unary<SetLimitsResponse>((cb) =>
      venue.admin.setLimits({ account: name, limits: l, expectedRevision }, auth(admin), cb),
    );
  const remove = (name: string, expectedRevision = 0) =>
    unary((cb) => venue.admin.deleteAccount({ name, expectedRevision }, auth(admin), cb));

  it("refuses every account and limit call without the admin token", async () => {
    const calls = [
      () => create({ name: "x" }, auth("wrong")),
      () => unary((cb) => venue.admin.getAccount({ name: "maker" }, auth("wrong"), cb)),
      () => unary((cb) => venue.admin.listAccounts({ pageSize: 0, pageToken: "" }, auth("wrong"), cb)),
      () =>
        unary((cb) =>
          venue.admin.updateAccount({ account: account({ name: "maker" }), expectedRevision: 0 }, auth("wrong"), cb),
        ),
      () => unary((cb) => venue.admin.deleteAccount({ name: "maker", expectedRevision: 0 }, auth("wrong"), cb)),
      () => unary((cb) => venue.admin.getLimits({ account: "maker" }, auth("wrong"), cb)),
      () =>
        unary((cb) =>
          venue.admin.setLimits({ account: "maker", limits: limits({}), expectedRevision: 0 }, auth("wrong"), cb),
        ),
    ];
    for (const call of calls) await expect(call()).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    expect((await get("maker")).account?.name).toBe("maker");
  });

  it("creates an account with a revision and times, and refuses the same name again", async () => {
    const created = await create({
      name: "desk.1",
      displayName: "Desk one",
      principals: ["desk1"],
      defaultStpMode: StpMode.CANCEL_BOTH,
      // Ignored on create (proto): limits are set with SetLimits.
      limits: limits({ maxOrderQty: 5 }),
      revision: 999,
    });
    expect(created.account).toMatchObject({
      name: "desk.1",
      displayName: "Desk one",
      principals: ["desk1"],
      defaultStpMode: StpMode.CANCEL_BOTH,
      limits: limits({}),
    });
    expect(created.account!.revision).toBeGreaterThan(0);
    expect(created.account!.revision).not.toBe(999);
    expect(created.account!.createTime).toEqual(created.account!.updateTime);
    expect((await get("desk.1")).account).toEqual(created.account);
    await expect(create({ name: "desk.1" })).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    // Stored in the existing record format, readable by every gateway and the CLI.
    const stored = await readAccount(venue.kv, "desk.1");
    expect(stored).toMatchObject({
      revision: created.account!.revision,
      record: { name: "desk.1", principals: ["desk1"], limits: {}, defaultStpMode: StpMode.CANCEL_BOTH },
    });
  });

  it("refuses bad accounts with the offending field named, and keeps serving", async () => {
    const cases: [Partial<Account>, string][] = [
      [{ name: "" }, "account.name"],
      [{ name: "-desk" }, "account.name"],
      [{ name: "desk 2" }, "account.name"],
      [{ name: "a".repeat(65) }, "account.name"],
      [{ name: "desk.", principals: [] }, "account.name"],
      [{ name: "ok", principals: ["p", "p"] }, "account.principals[1]"],
      [{ name: "ok", defaultStpMode: 77 as StpMode }, "account.default_stp_mode"],
      [{ name: "ok", displayName: "x".repeat(300) }, "account.display_name"],
    ];
    for (const [a, field] of cases) {
      const err = await create(a).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: status.INVALID_ARGUMENT });
      expect((err as { details: string }).details).toContain(field);
    }
    await expect(
      unary((cb) => venue.admin.createAccount({ account: undefined }, auth(admin), cb)),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining("account") });
    await expect(get("nobody")).rejects.toMatchObject({ code: status.NOT_FOUND });
    expect((await create({ name: "ok" })).account?.name).toBe("ok");
  });

  it("updates with optimistic concurrency: ABORTED on a stale revision, then success on the current one", async () => {
    await putToken(venue.kv, tokenOf("desk1"), "desk1");
    const before = (await get("desk.1")).account!;
    const updated = await update(
      { name: "desk.1", displayName: "Desk one (eq)", principals: ["desk1", "desk1b"], disabled: true },
      before.revision,
    );
    expect(updated.account).toMatchObject({
      displayName: "Desk one (eq)",
      principals: ["desk1", "desk1b"],
      disabled: true,
      createTime: before.createTime,
    });
    expect(updated.account!.revision).toBeGreaterThan(before.revision);
    // Binding at once on this gateway: a disabled account's orders are refused.
    const refused = await venue.submit(tokenOf("desk1"), order({ clientOrderId: "dis", price: 99_000 }));
    expect(refused.reports[0]).toMatchObject({ rejectReason: RejectReason.ACCOUNT_DISABLED, commandSeq: 0 });
    await expect(update({ name: "desk.1", displayName: "late" }, before.revision)).rejects.toMatchObject({
      code: status.ABORTED,
      details: expect.stringContaining(`revision ${updated.account!.revision}`),
    });
    const overwritten = await update({ name: "desk.1", displayName: "Desk one", principals: ["desk1"] }, 0);
    expect(overwritten.account).toMatchObject({ displayName: "Desk one", disabled: false });
    await expect(update({ name: "ghost" }, 0)).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it("lists accounts ascending by name, page by page, each exactly once", async () => {
    for (const name of ["p-c", "p-a", "p-e", "p-b", "p-d"]) await create({ name });
    const names: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await list(2, token);
      expect(page.accounts.length).toBeLessThanOrEqual(2);
      names.push(...page.accounts.map((a) => a.name));
      token = page.nextPageToken;
      pages++;
    } while (token !== "");
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(["desk.1", "maker", "ok", "p-a", "p-b", "p-c", "p-d", "p-e"]));
    expect(pages).toBe(Math.ceil(names.length / 2));
    const all = await list(0);
    expect(all.accounts.map((a) => a.name)).toEqual(names);
    expect(all.nextPageToken).toBe("");
    expect(all.accounts.find((a) => a.name === "p-a")!.revision).toBeGreaterThan(0);
    await expect(list(1001)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("page_size"),
    });
    await expect(list(10, "not-a-token!")).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("page_token"),
    });
  });

  it("serves own and effective limits, and a new limit binds the next order at once", async () => {
    const start = await getLimits("desk.1");
    expect(start.limits).toEqual(limits({}));
    expect(start.effective).toEqual(limits({ maxOrderQty: 1_000, priceCollarBps: 500 }));
    const first = await venue.submit(tokenOf("desk1"), order({ clientOrderId: "l-1", price: 99_000 }));
    expect(first.reports[0]!.execType).toBe(ExecType.NEW);

    const set = await setLimits(
      "desk.1",
      limits({ maxOrderQty: 0, creditLimit: 5_000_000, restrictedInstruments: ["TCS"] }),
      start.revision,
    );
    expect(set.limits).toEqual(limits({ maxOrderQty: 0, creditLimit: 5_000_000, restrictedInstruments: ["TCS"] }));
    expect(set.revision).toBeGreaterThan(start.revision);
    const now = await getLimits("desk.1");
    expect(now).toEqual({
      limits: set.limits,
      effective: limits({
        maxOrderQty: 0,
        priceCollarBps: 500,
        creditLimit: 5_000_000,
        restrictedInstruments: ["TCS"],
      }),
      revision: set.revision,
    });
    // 0 blocks: refused at the gateway, without waiting for any watch.
    const blocked = await venue.submit(tokenOf("desk1"), order({ clientOrderId: "l-2", price: 99_000 }));
    expect(blocked.reports[0]).toMatchObject({
      execType: ExecType.REJECTED,
      rejectReason: RejectReason.ACCOUNT_MAX_ORDER_QTY,
      commandSeq: 0,
    });
    const restricted = await venue.submit(
      tokenOf("desk1"),
      order({ clientOrderId: "l-3", instrument: "TCS", price: 99_000 }),
    );
    expect(restricted.reports[0]).toMatchObject({ rejectReason: RejectReason.RESTRICTED_INSTRUMENT });

    await expect(setLimits("desk.1", limits({ maxOrderQty: 3 }), start.revision)).rejects.toMatchObject({
      code: status.ABORTED,
    });
    // Limits and the account's other fields do not overwrite each other.
    expect((await get("desk.1")).account).toMatchObject({ displayName: "Desk one", limits: set.limits });
    // Absent limits: everything inherits again.
    await setLimits("desk.1", undefined);
    expect((await getLimits("desk.1")).effective).toEqual(limits({ maxOrderQty: 1_000, priceCollarBps: 500 }));
    await expect(getLimits("ghost")).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it("refuses bad limits with the offending field named", async () => {
    const cases: [RiskLimits, string][] = [
      [limits({ maxOrderQty: -1 }), "limits.max_order_qty"],
      [limits({ maxOrderNotional: -10 }), "limits.max_order_notional"],
      [limits({ maxPosition: -1 }), "limits.max_position"],
      [limits({ creditLimit: -1 }), "limits.credit_limit"],
      [limits({ priceCollarBps: 200_000 }), "limits.price_collar_bps"],
      [limits({ restrictedInstruments: ["INFY", "NOPE"] }), "limits.restricted_instruments[1]"],
    ];
    for (const [l, field] of cases) {
      const err = await setLimits("desk.1", l).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: status.INVALID_ARGUMENT });
      expect((err as { details: string }).details).toContain(field);
    }
    await expect(setLimits("bad name", limits({}))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining("account"),
    });
  });

  it("deletes an account only without open orders and with a flat position", async () => {
    await create({ name: "leaver", principals: ["leaver"] });
    await putToken(venue.kv, tokenOf("leaver"), "leaver");
    const resting = await venue.submit(tokenOf("leaver"), order({ clientOrderId: "rest", price: 95_000 }));
    expect(resting.reports[0]!.execType).toBe(ExecType.NEW);
    const withOrder = await scrape(venue);
    expect(sample(withOrder, "tp_risk_open_orders", { account: "leaver" })).toBe(1);
    expect(sample(withOrder, "tp_risk_open_exposure", { account: "leaver" })).toBe(95_000);
    await expect(remove("leaver")).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringContaining("open order"),
    });
    await unary<CancelOrderResponse>((cb) =>
      venue.orderEntry.cancelOrder(
        { account: "", instrument: "INFY", target: { $case: "origClientOrderId", value: "rest" }, clientOrderId: "" },
        auth(tokenOf("leaver")),
        cb,
      ),
    );
    // Buy 2 from the maker: a position.
    await venue.submit(tokenOf("maker"), order({ clientOrderId: "m-sell", side: Side.SELL, price: 100_020, qty: 2 }));
    const fill = await venue.submit(tokenOf("leaver"), order({ clientOrderId: "take", price: 100_020, qty: 2 }));
    expect(fill.reports.map((r) => r.execType)).toEqual([ExecType.NEW, ExecType.TRADE]);
    await expect(remove("leaver")).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringContaining("position of 2 lots in INFY"),
    });
    const withPosition = await scrape(venue);
    expect(sample(withPosition, "tp_risk_open_orders", { account: "leaver" })).toBe(0);
    expect(sample(withPosition, "tp_risk_position_lots", { account: "leaver" })).toBe(2);
    expect(sample(withPosition, "tp_risk_position_notional", { account: "leaver" })).toBe(200_040);
    // Flatten, then delete at the current revision (a stale one is refused).
    await venue.submit(tokenOf("maker"), order({ clientOrderId: "m-buy", side: Side.BUY, price: 100_000, qty: 2 }));
    const flat = await venue.submit(
      tokenOf("leaver"),
      order({ clientOrderId: "flat", side: Side.SELL, price: 100_000, qty: 2 }),
    );
    expect(flat.reports.map((r) => r.execType)).toEqual([ExecType.NEW, ExecType.TRADE]);
    const current = (await get("leaver")).account!;
    await expect(remove("leaver", current.revision - 1)).rejects.toMatchObject({ code: status.ABORTED });
    await remove("leaver", current.revision);
    await expect(get("leaver")).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(remove("leaver")).rejects.toMatchObject({ code: status.NOT_FOUND });
    const remaining = (await list(0)).accounts.map((a) => a.name);
    expect(remaining).not.toContain("leaver");
    expect(sample(await scrape(venue), "tp_risk_accounts_loaded")).toBe(remaining.length);
    // Its principal may no longer trade it.
    await expect(venue.submit(tokenOf("leaver"), order({ clientOrderId: "after" }))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    // A kill switch left engaged on a deleted account can still be released.
    await create({ name: "ks-gone" });
    await unary((cb) =>
      venue.admin.engageKillSwitch(
        { scope: KillSwitchScope.ACCOUNT, account: "ks-gone", reason: "test", keepOpenOrders: true },
        auth(admin),
        cb,
      ),
    );
    await remove("ks-gone");
    await unary((cb) =>
      venue.admin.releaseKillSwitch(
        { scope: KillSwitchScope.ACCOUNT, account: "ks-gone", reason: "gone" },
        auth(admin),
        cb,
      ),
    );
    await retry(
      async () => {
        const list = await unary<ListKillSwitchesResponse>((cb) => venue.admin.listKillSwitches({}, auth(admin), cb));
        if (list.killSwitches.some((k) => k.account === "ks-gone")) throw new Error("still engaged");
      },
      10_000,
      50,
    );
    // A revoked token is refused (the CLI writes and revokes tokens in the bucket directly).
    await revokeToken(venue.kv, tokenOf("leaver"));
    await retry(
      async () => {
        const err = await venue.submit(tokenOf("leaver"), order({ clientOrderId: "revoked" })).catch((e: unknown) => e);
        if ((err as { code?: number }).code !== status.UNAUTHENTICATED) throw new Error("token still accepted");
      },
      10_000,
      50,
    );
    // The name is free again.
    expect((await create({ name: "leaver" })).account!.revision).toBeGreaterThan(current.revision);
  });

  it("resolves an order's UNSPECIFIED self-trade mode to the account's default, and that to CANCEL_MAKER", async () => {
    await create({ name: "selftrader", principals: ["selftrader"] });
    await putToken(venue.kv, tokenOf("selftrader"), "selftrader");
    const openIds = async () =>
      (
        await unary<ListOpenOrdersResponse>((cb) =>
          venue.orderEntry.listOpenOrders({ account: "", instrument: "TCS" }, auth(tokenOf("selftrader")), cb),
        )
      ).orders.map((o) => o.clientOrderId);
    // The gateway learns of the account and its token through its watch of the buckets: once
    // the token answers, both are in its live view.
    await retry(openIds);
    const sell = (id: string) =>
      venue.submit(
        tokenOf("selftrader"),
        order({ clientOrderId: id, instrument: "TCS", side: Side.SELL, price: 100_300 }),
      );
    const buy = (id: string) =>
      venue.submit(
        tokenOf("selftrader"),
        order({ clientOrderId: id, instrument: "TCS", side: Side.BUY, price: 100_300 }),
      );
    // Account default UNSPECIFIED = CANCEL_MAKER (NSE): the resting sell goes, the buy rests.
    await sell("st-s1");
    await buy("st-b1");
    expect(await openIds()).toEqual(["st-b1"]);
    // Account default CANCEL_TAKER: the incoming sell goes, the resting buy stays.
    const current = (await get("selftrader")).account!;
    await update({ ...current, defaultStpMode: StpMode.CANCEL_TAKER }, current.revision);
    // The gateway learns of the change through its watch of the bucket: wait for its live view.
    await retry(async () => {
      const live = (await list(1_000)).accounts.find((a) => a.name === "selftrader");
      if (live?.defaultStpMode !== StpMode.CANCEL_TAKER) throw new Error("the gateway has not seen the change yet");
    });
    await sell("st-s2");
    expect(await openIds()).toEqual(["st-b1"]);
  });

  it("lets exactly one of two writes based on the same revision win, and keeps both of two unconditional ones", async () => {
    const base = (await create({ name: "race", principals: ["race"] })).account!;
    const outcomes = await Promise.allSettled([
      setLimits("race", limits({ maxOrderQty: 1 }), base.revision),
      setLimits("race", limits({ maxOrderQty: 2 }), base.revision),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(outcomes.find((o) => o.status === "rejected")).toMatchObject({ reason: { code: status.ABORTED } });
    // Unconditional (0): a limits change and an account change at once; neither loses the other.
    await Promise.all([
      setLimits("race", limits({ creditLimit: 7 }), 0),
      update({ name: "race", displayName: "Race desk", principals: ["race"] }, 0),
    ]);
    expect((await get("race")).account).toMatchObject({
      displayName: "Race desk",
      limits: limits({ creditLimit: 7 }),
    });
  });

  it("answers random field values with a status naming the problem, never an internal error", async () => {
    const rnd = prng(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const names = ["", "a", "Z9", "desk.1", "-x", "a..b", "x.", "sp ace", "ü", "n".repeat(64), "n".repeat(65), "race"];
    // Only what the client can encode: whole int64 values, and uint32 values in range.
    const numbers = [undefined, 0, 1, -1, 7, 2 ** 31, 2 ** 53 - 1, -(2 ** 53) + 1];
    const unsigned = [undefined, 0, 1, 7, 100_000, 100_001, 2 ** 32 - 1];
    const allowed = new Set([
      status.OK,
      status.INVALID_ARGUMENT,
      status.NOT_FOUND,
      status.ALREADY_EXISTS,
      status.ABORTED,
      status.FAILED_PRECONDITION,
    ]);
    for (let i = 0; i < 200; i++) {
      const name = pick(names);
      const randomLimits = limits({
        maxOrderQty: pick(numbers),
        maxOrderNotional: pick(numbers),
        priceCollarBps: pick(unsigned),
        maxPosition: pick(numbers),
        creditLimit: pick(numbers),
        maxOrdersPerSecond: pick(unsigned),
        restrictedInstruments: rnd() < 0.5 ? [] : [pick(["INFY", "TCS", "NOPE", ""])],
      });
      const call = pick([
        () =>
          create({
            name,
            principals: rnd() < 0.2 ? [""] : [name || "p"],
            defaultStpMode: pick([0, 1, 2, 9]) as StpMode,
          }),
        () => update({ name, displayName: "x".repeat(Math.floor(rnd() * 300)) }, pick([0, 1, 10_000])),
        () => setLimits(name, randomLimits, pick([0, 1, 10_000])),
        () => getLimits(name),
        () => list(pick([0, 1, 5, 1000, 1001]), pick(["", "garbage", Buffer.from("v1:race").toString("base64url")])),
      ]);
      const code = await call().then(
        () => status.OK,
        (err: { code: number; details: string }) => {
          if (err.code === status.INVALID_ARGUMENT) expect(err.details).toMatch(/^[a-z_.[\]0-9]+: /);
          return err.code;
        },
      );
      expect(allowed).toContain(code);
    }
    expect((await get("maker")).account?.name).toBe("maker");
  });

  it("survives random bytes on every account call and answers a good call afterwards", async () => {
    const raw = new Client(`127.0.0.1:${venue.gateway.grpcPort}`, credentials.createInsecure());
    const rnd = prng(7);
    const methods = [
      "CreateAccount",
      "GetAccount",
      "ListAccounts",
      "UpdateAccount",
      "DeleteAccount",
      "GetLimits",
      "SetLimits",
    ];
    const codes = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      const method = methods[i % methods.length]!;
      const code = await new Promise<number>((resolve) =>
        raw.makeUnaryRequest(
          `/tradeplane.v1.RiskAdmin/${method}`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          auth(admin),
          (err) => resolve(err === null ? status.OK : (err as { code: number }).code),
        ),
      );
      codes.add(code);
    }
    raw.close();
    expect(codes.has(status.INTERNAL)).toBe(false);
    expect(codes.has(status.UNKNOWN)).toBe(false);
    expect((await get("maker")).account?.name).toBe("maker");
  });
});
