import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { Side, type GetTradeRegisterResponse, type JournalExecution } from "@tradeplane/contracts";
import type { Target } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { formatMoney, formatPrice, formatTime } from "../format.ts";
import { printTable } from "../output.ts";
import { parseInstant, parseLimit, parseOrderId, parseTradingDay } from "./journal-flags.ts";
import { registerCsvHeader, registerCsvLine } from "./register-csv.ts";

/**
 * `tradeplane journal ...`: the JournalQuery calls. The register needs the admin token (it
 * names every counterparty); the other calls also take a trading token, which reads only its
 * own account (Target.accountReaderToken says which token goes).
 */

const sideText = (s: Side) => (s === Side.BUY ? "BUY" : s === Side.SELL ? "SELL" : "?");

function money(target: Target): (v: number) => string | number {
  const exp = target.venue()?.spec.market.notionalExponent;
  return (v) => (exp === undefined ? v : formatMoney(v, exp));
}

function price(target: Target, instrument: string, ticks: number): string | number {
  const unit = target.priceUnit(instrument);
  return unit === undefined ? ticks : formatPrice(ticks, unit);
}

export interface JournalTradesFlags {
  readonly account?: string;
  readonly instrument?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: string;
}

export async function journalTrades(target: Target, flags: JournalTradesFlags): Promise<void> {
  const fromTime = parseInstant(flags.from, "--from");
  const toTime = parseInstant(flags.to, "--to");
  const limit = parseLimit(flags.limit);
  const client = target.journal();
  const res = await target.call("journal", target.accountReaderToken(), client.listTrades.bind(client), {
    account: flags.account ?? "",
    instrument: flags.instrument ?? "",
    ...(fromTime !== undefined ? { fromTime } : {}),
    ...(toTime !== undefined ? { toTime } : {}),
    limit,
    afterCommandSeq: 0,
    afterIndex: 0,
    afterRole: "",
  });
  const m = money(target);
  printTable(
    target.flags.json === true,
    res,
    ["time (UTC)", "account", "symbol", "side", "qty", "price", "value", "role", "order", "trade key"],
    res.executions.map((e: JournalExecution) => [
      formatTime(e.time),
      e.account,
      e.instrument,
      sideText(e.side),
      e.qty,
      price(target, e.instrument, e.price),
      m(e.value),
      e.role,
      e.orderId,
      `${e.commandSeq}/${e.index}`,
    ]),
    "(no trades)",
  );
  if (res.more && target.flags.json !== true)
    process.stdout.write("(more rows match: narrow the range or raise --limit, up to 10000)\n");
}

export async function journalAudit(target: Target, orderIdText: string): Promise<void> {
  const orderId = parseOrderId(orderIdText);
  const client = target.journal();
  const res = await target.call("journal", target.accountReaderToken(), client.getOrderAuditTrail.bind(client), {
    orderId,
  });
  if (target.flags.json !== true)
    process.stdout.write(`order ${res.orderId}: ${res.instrument}, account ${res.account}\n`);
  printTable(
    target.flags.json === true,
    res,
    ["time (UTC)", "event", "filled", "leaves", "command seq/index", "log entry", "event stream seq"],
    res.events.map((e) => [
      formatTime(e.time),
      e.kind,
      e.filledQty,
      e.leavesQty,
      `${e.commandSeq}/${e.index}`,
      e.logEntry,
      e.eventStreamSeq,
    ]),
  );
}

export async function journalOtr(target: Target, flags: { day?: string; account?: string }): Promise<void> {
  const tradingDay = parseTradingDay(flags.day);
  const client = target.journal();
  const res = await target.call("journal", target.accountReaderToken(), client.getOrderToTradeRatio.bind(client), {
    tradingDay,
    account: flags.account ?? "",
  });
  printTable(
    target.flags.json === true,
    res,
    ["account", "orders", "entries", "modifications", "cancellations", "trades", "order-to-trade"],
    res.ratios.map((r) => [
      r.account,
      r.orders,
      r.entries,
      r.modifications,
      r.cancellations,
      r.trades,
      formatMoney(r.ratioMilli, -3).replaceAll(",", ""),
    ]),
    `(no orders on ${tradingDay})`,
  );
}

/** Pages through the whole register of a day into CSV, on stdout or into a file. */
export async function journalRegister(target: Target, flags: { day?: string; out?: string }): Promise<void> {
  const tradingDay = parseTradingDay(flags.day);
  const client = target.journal();
  const token = target.adminToken();
  const out = flags.out === undefined ? process.stdout : createWriteStream(flags.out, { flags: "wx", mode: 0o600 });
  if (out !== process.stdout)
    await Promise.race([
      once(out, "open"),
      once(out, "error").then(([err]) => {
        throw new CliError(EXIT.USAGE, `--out ${flags.out}: ${(err as Error).message}`);
      }),
    ]);
  // A reader that stops early (`| head`) closes the pipe: the register ends there, quietly.
  let closed = false;
  let failure: Error | undefined;
  out.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") closed = true;
    else failure = err;
  });
  const write = async (text: string): Promise<void> => {
    if (failure !== undefined) throw new CliError(EXIT.FAILED, `writing the register: ${failure.message}`);
    if (closed || out.write(text)) return;
    await once(out, "drain").catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw new CliError(EXIT.FAILED, `writing the register: ${err.message}`);
      closed = true;
    });
  };
  await write(registerCsvHeader());
  let after = { afterCommandSeq: 0, afterIndex: 0 };
  let count = 0;
  for (;;) {
    const page: GetTradeRegisterResponse = await target.call(
      "journal",
      token,
      client.getTradeRegister.bind(client),
      { tradingDay, limit: 10_000, ...after },
      { timeoutMs: 60_000 },
    );
    for (const t of page.trades) await write(registerCsvLine(tradingDay, t, page));
    if (closed) return;
    count += page.trades.length;
    const last = page.trades.at(-1);
    if (!page.more || last === undefined) break;
    after = { afterCommandSeq: last.commandSeq, afterIndex: last.index };
  }
  if (out !== process.stdout) {
    out.end();
    await once(out, "finish");
    process.stderr.write(`${count} trades of ${tradingDay} written to ${flags.out}\n`);
  }
}

export async function journalObligations(target: Target, flags: { day?: string; account?: string }): Promise<void> {
  const tradingDay = parseTradingDay(flags.day);
  const client = target.journal();
  const res = await target.call("journal", target.accountReaderToken(), client.getClearingObligations.bind(client), {
    tradingDay,
    account: flags.account ?? "",
  });
  if (target.flags.json === true) {
    process.stdout.write(JSON.stringify(res, null, 2) + "\n");
    return;
  }
  const m = (v: number) => formatMoney(v, res.notionalExponent);
  process.stdout.write(`trading day ${tradingDay}, settles ${res.settlementDate}, money in ${res.currency}\n`);
  printTable(
    false,
    res,
    ["account", "symbol", "bought", "sold", "net qty", "bought value", "sold value", "net value", ""],
    res.securities.map((s) => [
      s.account,
      s.instrument,
      s.boughtQty,
      s.soldQty,
      s.netQty,
      m(s.boughtValue),
      m(s.soldValue),
      m(s.netValue),
      s.netQty > 0 ? "receive" : s.netQty < 0 ? "deliver" : "",
    ]),
    `(no trades on ${tradingDay})`,
  );
  printTable(
    false,
    res,
    ["account", "net funds", ""],
    res.funds.map((f) => [f.account, m(f.netFunds), f.netFunds > 0 ? "receive" : f.netFunds < 0 ? "pay" : ""]),
    "",
  );
}
