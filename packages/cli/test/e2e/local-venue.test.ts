import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EXAMPLE_VENUE as MANIFEST, localPortBase, LocalVenueRun } from "@tradeplane/testkit";

/**
 * The newcomer's path, end to end and for real: `tradeplane up --headless` in a temp folder
 * (its own nats-server, engine, risk gateway and market-data processes), trading and
 * inspecting through the CLI as a user would, then a stop and a restart that must show
 * the same state, rebuilt from the log.
 */

const venue = new LocalVenueRun();
const dir = venue.dir;
const cli = (...args: string[]) => venue.cli(...args);
const json = <T>(...args: string[]) => venue.json<T>(...args);
const up = (portBase: number) => venue.up({ portBase });
const stop = LocalVenueRun.stop;
const servicePids = () => venue.servicePids();
const portBase = localPortBase;

// After a failure, do not leave the venue's nats-server or services behind.
afterAll(() => venue.cleanup());

type Book = { book: { bids: { price: number; qty: number }[]; asks: { price: number; qty: number }[] } };
type Trades = { trades: { price: number; qty: number; tradeId: number }[] };
type Positions = { positions: { instrument: string; netQty: number; realisedPnl: number }[] };

describe("tradeplane up, end to end", () => {
  // A long walk through a real venue: minutes on a loaded machine, seconds on a quiet one.
  it("trades through the CLI, keeps its state across a restart and replays it", { timeout: 300_000 }, async () => {
    const base = await portBase();
    const first = await up(base);

    // nats-server takes its token from a file only this user reads, not from its command line.
    const local = JSON.parse(readFileSync(join(dir, "local.json"), "utf8")) as { natsPid: number; natsToken: string };
    const natsCmdline = readFileSync(`/proc/${local.natsPid}/cmdline`, "utf8").split("\0");
    expect(natsCmdline.join(" ")).not.toContain(local.natsToken);
    const natsConfig = natsCmdline[natsCmdline.indexOf("--config") + 1]!;
    expect(statSync(natsConfig).mode & 0o777).toBe(0o600);
    expect(readFileSync(natsConfig, "utf8")).toContain(local.natsToken);

    // An order that rests, then one that takes part of it.
    const sell = await json<{ reports: { execType: number }[] }>(
      "order",
      "submit",
      "RELIANCE",
      "--account",
      "alice",
      "--side",
      "sell",
      "--qty",
      "10",
      "--price",
      "1300.00",
    );
    expect(sell.reports).toHaveLength(1);
    const buy = await cli(
      "order",
      "submit",
      "RELIANCE",
      "--account",
      "demo-taker",
      "--side",
      "buy",
      "--qty",
      "4",
      "--price",
      "1300.10",
    );
    expect(buy.code).toBe(0);
    expect(buy.stdout).toMatch(/TRADE/);
    expect(buy.stdout).toContain("1,300.00");

    // What a user sees: the book, the tape, the positions.
    const book = await json<Book>("book", "RELIANCE");
    expect(book.book.asks[0]).toMatchObject({ price: 130_000, qty: 6 });
    const trades = await json<Trades>("trades", "RELIANCE");
    expect(trades.trades.map((t) => [t.price, t.qty])).toEqual([[130_000, 4]]);
    const positions = await json<Positions>("positions", "alice");
    expect(positions.positions).toEqual([expect.objectContaining({ instrument: "RELIANCE", netQty: -4 })]);
    const table = await cli("book", "RELIANCE");
    expect(table.stdout).toContain("1,300.00");

    // Errors scripts can tell apart.
    const unknown = await cli(
      "order",
      "submit",
      "NOPE",
      "--account",
      "alice",
      "--side",
      "buy",
      "--qty",
      "1",
      "--price",
      "1",
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("UNKNOWN_INSTRUMENT");
    const badToken = await cli("--token", "not-a-token", "order", "list", "--account", "alice");
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).toContain("refused the token");
    const offTick = await cli(
      "order",
      "submit",
      "RELIANCE",
      "--account",
      "alice",
      "--side",
      "buy",
      "--qty",
      "1",
      "--price",
      "1300.001",
    );
    expect(offTick.code).toBe(2);
    const unreachable = await cli("--endpoint", "127.0.0.1:1", "book", "RELIANCE");
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain("cannot reach the market-data service at 127.0.0.1:1");

    // Halt refuses new orders; resume lets them in again.
    expect((await cli("halt", "INFY", "--reason", "test halt")).code).toBe(0);
    const halted = await cli(
      "order",
      "submit",
      "INFY",
      "--account",
      "alice",
      "--side",
      "buy",
      "--qty",
      "1",
      "--price",
      "1500.00",
    );
    expect(halted.code).toBe(1);
    expect((await cli("resume", "INFY")).code).toBe(0);

    // Accounts and limits through RiskAdmin; local mode issues the new account a token.
    const created = await json<{ token: string }>("accounts", "create", "bob");
    expect(created.token.length).toBeGreaterThan(20);
    expect((await cli("accounts", "set-limits", "bob", "--max-order-qty", "5")).code).toBe(0);
    const tooBig = await cli(
      "order",
      "submit",
      "TCS",
      "--account",
      "bob",
      "--side",
      "buy",
      "--qty",
      "10",
      "--price",
      "3200.00",
    );
    expect(tooBig.code).toBe(1);
    expect(tooBig.stdout).toContain("MAX_ORDER_QTY");
    const small = await cli(
      "order",
      "submit",
      "TCS",
      "--account",
      "bob",
      "--side",
      "buy",
      "--qty",
      "5",
      "--price",
      "3200.00",
    );
    expect(small.code).toBe(0);

    // No secret is in a service's config file: they read them from files of their own.
    const secrets = JSON.parse(readFileSync(join(dir, "local.json"), "utf8")) as {
      adminToken: string;
      natsToken: string;
      natsPid: number;
    };
    // Nor on nats-server's command line, which every user of the machine can read.
    expect(readFileSync(`/proc/${secrets.natsPid}/cmdline`, "utf8")).not.toContain(secrets.natsToken);
    for (const file of readdirSync(join(dir, "config"))) {
      const text = readFileSync(join(dir, "config", file), "utf8");
      expect(text).not.toContain(secrets.adminToken);
      expect(text).not.toContain(secrets.natsToken);
    }

    // A kill switch stops an account until it is released.
    expect((await cli("kill-switch", "engage", "--account", "bob", "--reason", "test")).code).toBe(0);
    const killed = await cli(
      "order",
      "submit",
      "TCS",
      "--account",
      "bob",
      "--side",
      "buy",
      "--qty",
      "1",
      "--price",
      "3200.00",
    );
    expect(killed.code).toBe(1);
    expect((await json<{ orders: unknown[] }>("order", "list", "--account", "bob")).orders).toEqual([]);
    expect((await cli("kill-switch", "release", "--account", "bob")).code).toBe(0);

    // Replace keeps the order; cancel by the venue's order id; bars of the trades.
    expect(
      (
        await cli(
          "order",
          "submit",
          "INFY",
          "--account",
          "alice",
          "--side",
          "buy",
          "--qty",
          "3",
          "--price",
          "1490.00",
          "--client-order-id",
          "e2e-1",
        )
      ).code,
    ).toBe(0);
    const replaced = await cli(
      "order",
      "replace",
      "INFY",
      "--account",
      "alice",
      "--client-order-id",
      "e2e-1",
      "--qty",
      "2",
      "--price",
      "1490.00",
    );
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain("REPLACED");
    const open = await json<{ orders: { orderId: number; qty: number; instrument: string }[] }>(
      "order",
      "list",
      "--account",
      "alice",
      "--symbol",
      "INFY",
    );
    expect(open.orders).toEqual([expect.objectContaining({ instrument: "INFY", qty: 2 })]);
    const cancelled = await cli(
      "order",
      "cancel",
      "INFY",
      "--account",
      "alice",
      "--order-id",
      String(open.orders[0]!.orderId),
    );
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain("CANCELLED");
    expect(
      (await json<{ orders: unknown[] }>("order", "list", "--account", "alice", "--symbol", "INFY")).orders,
    ).toEqual([]);
    const bars = await json<{ bars: { volume: number }[] }>("bars", "RELIANCE", "--interval", "1s");
    expect(bars.bars.reduce((sum, b) => sum + b.volume, 0)).toBe(4);
    expect((await cli("validate", "-f", MANIFEST)).code).toBe(0);

    const status = await json<{ replicas: { lastCommandSeq: number }[]; services: { ready: string }[] }>("status");
    expect(status.services.every((s) => s.ready === "ready")).toBe(true);
    const lastSeq = status.replicas[0]!.lastCommandSeq;
    expect(lastSeq).toBeGreaterThanOrEqual(3);
    // Engines named one by one, as on a venue whose partitions have their own Services.
    const { endpoints } = JSON.parse(readFileSync(join(dir, "local.json"), "utf8")) as {
      endpoints: { engines: { partition: number; grpc: string }[] };
    };
    const named = await json<{ replicas: { partition: number }[]; services: unknown[] }>(
      "status",
      ...endpoints.engines.flatMap((e) => ["--engine", `${e.partition}=${e.grpc}`]),
    );
    expect(named.replicas.map((r) => r.partition).sort()).toEqual(endpoints.engines.map((e) => e.partition).sort());
    const badEngine = await cli("status", "--engine", "zero");
    expect(badEngine.code).toBe(2);
    expect(badEngine.stderr).toContain("PARTITION=host:port");

    const replayed = await json<{
      books: { symbol: string; asks: { price: number; qty: number }[] }[];
      positions: Positions["positions"];
    }>("replay", "--to-seq", String(lastSeq));
    expect(replayed.books.find((b) => b.symbol === "RELIANCE")!.asks[0]).toEqual({ price: 130_000, qty: 6 });
    expect(replayed.positions).toEqual(
      expect.arrayContaining([expect.objectContaining({ instrument: "RELIANCE", netQty: -4 })]),
    );
    // After the first command (entry 1, position 0: command 1000), nothing had traded.
    const before = await json<{ positions: Positions["positions"] }>("replay", "--to-seq", "1000");
    expect(before.positions.every((p) => p.netQty === 0)).toBe(true);

    expect(await stop(first.child)).toBe(0);
    expect(first.output()).toContain("stopped");

    // The same state after a restart, rebuilt from the log.
    const second = await up(base);
    expect(await json<Book>("book", "RELIANCE")).toMatchObject({ book: { asks: [{ price: 130_000, qty: 6 }] } });
    expect((await json<Trades>("trades", "RELIANCE")).trades.map((t) => [t.price, t.qty])).toEqual([[130_000, 4]]);
    expect((await json<Positions>("positions", "alice")).positions).toEqual([
      expect.objectContaining({ instrument: "RELIANCE", netQty: -4 }),
    ]);
    const state = JSON.parse(readFileSync(join(dir, "local.json"), "utf8")) as { pid?: number };
    expect(state.pid).toBe(second.child.pid);

    // Killed outright: its services stop themselves (their stdin closes) and the next `up`
    // stops the nats-server it left behind, then resumes from the same log.
    const gone = new Promise((resolve) => second.child.once("exit", resolve));
    second.child.kill("SIGKILL");
    await gone;
    const orphans = servicePids();
    const third = await up(base);
    expect(third.output()).toContain("left running by an earlier run");
    // The killed run's services stopped themselves: only the new run's three remain.
    const running = servicePids();
    expect(running).toHaveLength(3);
    expect(running.filter((pid) => orphans.includes(pid))).toEqual([]);
    expect((await json<Trades>("trades", "RELIANCE")).trades.map((t) => [t.price, t.qty])).toEqual([[130_000, 4]]);
    expect(await stop(third.child)).toBe(0);
    expect(servicePids()).toEqual([]);
  });

  it("refuses a bad manifest with the field at fault, and starts nothing", async () => {
    const run = await cli("up", "--headless", "-f", fileURLToPath(new URL("../../../../README.md", import.meta.url)));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is not valid YAML");
  });
});
