import { randomUUID } from "node:crypto";
import {
  execTypeToJSON,
  OrderType,
  orderStatusToJSON,
  rejectReasonToJSON,
  Side,
  TimeInForce,
  type ExecutionReport,
  type Order,
} from "@tradeplane/contracts";
import type { Target } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { enumLabel, formatPrice } from "../format.ts";
import { printTable } from "../output.ts";
import { parseCount, parsePrice } from "../prices.ts";

export interface SubmitFlags {
  readonly account: string;
  readonly side: string;
  readonly qty: string;
  readonly price?: string;
  readonly type: string;
  readonly tif: string;
  readonly clientOrderId?: string;
  readonly postOnly?: boolean;
}

const SIDES: Record<string, Side> = { buy: Side.BUY, sell: Side.SELL };
const TYPES: Record<string, OrderType> = { limit: OrderType.LIMIT, market: OrderType.MARKET };
const TIFS: Record<string, TimeInForce> = {
  day: TimeInForce.DAY,
  gtc: TimeInForce.GTC,
  ioc: TimeInForce.IOC,
  fok: TimeInForce.FOK,
};

function choice<T>(table: Record<string, T>, text: string, flag: string): T {
  const value = table[text.toLowerCase()];
  if (value === undefined)
    throw new CliError(EXIT.USAGE, `${flag} ${text}: must be one of ${Object.keys(table).join(", ")}`);
  return value;
}

export async function submitOrder(target: Target, symbol: string, flags: SubmitFlags): Promise<void> {
  const orderType = choice(TYPES, flags.type, "--type");
  const unit = target.priceUnit(symbol);
  if (orderType === OrderType.LIMIT && flags.price === undefined)
    throw new CliError(EXIT.USAGE, "a limit order needs --price");
  const request = {
    account: flags.account,
    clientOrderId: flags.clientOrderId ?? randomUUID(),
    instrument: symbol,
    side: choice(SIDES, flags.side, "--side"),
    orderType,
    timeInForce: choice(TIFS, flags.tif ?? (orderType === OrderType.MARKET ? "ioc" : "day"), "--tif"),
    price: flags.price === undefined ? 0 : parsePrice(flags.price, unit),
    stopPrice: 0,
    qty: parseCount(flags.qty, "--qty"),
    postOnly: flags.postOnly === true,
    stpMode: 0 as const,
    expireTime: undefined,
    displayQty: 0,
    stpGroup: 0,
  };
  const client = target.orderEntry();
  const res = await target.call(
    "orderEntry",
    target.tradingToken(flags.account),
    client.submitOrder.bind(client),
    request,
  );
  printReports(target, res.reports);
  if (res.reports.some((r) => enumLabel(execTypeToJSON(r.execType), "EXEC_TYPE_") === "REJECTED"))
    process.exitCode = EXIT.REFUSED;
}

export async function cancelOrder(
  target: Target,
  symbol: string,
  flags: { account: string; orderId?: string; clientOrderId?: string },
): Promise<void> {
  const client = target.orderEntry();
  const res = await target.call("orderEntry", target.tradingToken(flags.account), client.cancelOrder.bind(client), {
    account: flags.account,
    instrument: symbol,
    target: orderTarget(flags),
    clientOrderId: "",
  });
  printReports(target, res.report === undefined ? [] : [res.report]);
  if (res.report !== undefined && enumLabel(execTypeToJSON(res.report.execType), "EXEC_TYPE_") === "REJECTED")
    process.exitCode = EXIT.REFUSED;
}

export async function replaceOrder(
  target: Target,
  symbol: string,
  flags: { account: string; orderId?: string; clientOrderId?: string; qty: string; price?: string },
): Promise<void> {
  const client = target.orderEntry();
  const unit = target.priceUnit(symbol);
  const res = await target.call("orderEntry", target.tradingToken(flags.account), client.replaceOrder.bind(client), {
    account: flags.account,
    instrument: symbol,
    target: orderTarget(flags),
    clientOrderId: randomUUID(),
    price: flags.price === undefined ? 0 : parsePrice(flags.price, unit),
    stopPrice: 0,
    qty: parseCount(flags.qty, "--qty"),
  });
  printReports(target, res.reports);
  if (res.reports.some((r) => enumLabel(execTypeToJSON(r.execType), "EXEC_TYPE_") === "REJECTED"))
    process.exitCode = EXIT.REFUSED;
}

function orderTarget(flags: { orderId?: string; clientOrderId?: string }) {
  if (flags.orderId !== undefined) return { $case: "orderId" as const, value: parseCount(flags.orderId, "--order-id") };
  if (flags.clientOrderId !== undefined) return { $case: "origClientOrderId" as const, value: flags.clientOrderId };
  throw new CliError(EXIT.USAGE, "say which order: --order-id N or --client-order-id ID");
}

export async function listOrders(target: Target, flags: { account: string; symbol?: string }): Promise<void> {
  const client = target.orderEntry();
  const res = await target.call("orderEntry", target.tradingToken(flags.account), client.listOpenOrders.bind(client), {
    account: flags.account,
    instrument: flags.symbol ?? "",
  });
  printTable(
    target.flags.json === true,
    res,
    ["order id", "client order id", "symbol", "side", "price", "qty", "leaves", "status"],
    res.orders.map((o) => orderRow(target, o)),
    "(no open orders)",
  );
}

function orderRow(target: Target, o: Order): (string | number)[] {
  const unit = target.priceUnit(o.instrument);
  return [
    o.orderId,
    o.clientOrderId,
    o.instrument,
    o.side === Side.BUY ? "BUY" : "SELL",
    unit === undefined ? o.price : formatPrice(o.price, unit),
    o.qty,
    o.leavesQty,
    enumLabel(orderStatusToJSON(o.status), "ORDER_STATUS_"),
  ];
}

function printReports(target: Target, reports: readonly ExecutionReport[]): void {
  printTable(
    target.flags.json === true,
    { reports },
    ["report", "order id", "symbol", "side", "qty", "leaves", "last qty", "last price", "status", "reason"],
    reports.map((r) => {
      const o = r.order;
      const unit = target.priceUnit(o?.instrument ?? "");
      return [
        enumLabel(execTypeToJSON(r.execType), "EXEC_TYPE_"),
        o?.orderId ?? "",
        o?.instrument ?? "",
        o?.side === Side.BUY ? "BUY" : o?.side === Side.SELL ? "SELL" : "",
        o?.qty ?? "",
        o?.leavesQty ?? "",
        r.lastQty || "",
        r.lastPrice === 0 ? "" : unit === undefined ? r.lastPrice : formatPrice(r.lastPrice, unit),
        o === undefined ? "" : enumLabel(orderStatusToJSON(o.status), "ORDER_STATUS_"),
        r.rejectReason ? `${enumLabel(rejectReasonToJSON(r.rejectReason), "REJECT_REASON_")} ${r.text}`.trim() : "",
      ];
    }),
  );
}
