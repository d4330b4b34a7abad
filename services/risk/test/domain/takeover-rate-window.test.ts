import { describe, expect, it } from "vitest";
import type { Command } from "@tradeplane/contracts";
import { ordersBeforeFences, type LoggedEntry } from "../../src/domain/takeover-rate-window.ts";

const MS = 1_000_000;
type Cmd = Pick<Command, "account" | "body">;
const newOrder = (account = "acc"): Cmd => ({ account, body: { $case: "newOrder", value: {} as never } });
const replace = (account = "acc"): Cmd => ({ account, body: { $case: "replaceOrder", value: {} as never } });
const cancel = (account = "acc"): Cmd => ({ account, body: { $case: "cancelOrder", value: {} as never } });
const fence = (epoch: number, account = "acc"): Cmd => ({ account, body: { $case: "fenceAccount", value: { epoch } } });
const entry = (partition: number, seq: number, storedMs: number, ...commands: Cmd[]): LoggedEntry => ({
  partition,
  seq,
  storedNs: storedMs * MS,
  commands,
});

describe("the previous owner's orders of the last second, from the command log", () => {
  const cases: [string, LoggedEntry[], Map<number, number>, number[] | undefined][] = [
    [
      "new orders and replaces of the account count, cancels and other accounts do not",
      [entry(0, 1, 9_500, newOrder(), cancel(), newOrder("other"), replace()), entry(0, 2, 9_900, fence(7))],
      new Map([[0, 2]]),
      [400 * MS, 400 * MS],
    ],
    [
      "orders a second or more before the last fence are out of the window",
      [entry(0, 1, 8_900, newOrder()), entry(0, 2, 8_901, newOrder()), entry(0, 3, 9_900, fence(7))],
      new Map([[0, 3]]),
      [999 * MS],
    ],
    [
      "ages are measured from the last fence stored, across partitions",
      [
        entry(0, 1, 9_000, newOrder()),
        entry(1, 2, 9_200, newOrder()),
        entry(0, 3, 9_300, fence(7)),
        entry(1, 4, 9_600, fence(7)),
      ],
      new Map([
        [0, 3],
        [1, 4],
      ]),
      [600 * MS, 400 * MS],
    ],
    [
      "in the fence's own entry, what comes before our fence counts and what follows it does not",
      [entry(0, 5, 9_000, newOrder(), fence(7), newOrder())],
      new Map([[0, 5]]),
      [0],
    ],
    [
      "entries after a partition's fence are ignored (refused or ours)",
      [entry(0, 1, 9_000, fence(7)), entry(0, 2, 9_100, newOrder()), entry(1, 3, 9_200, fence(7))],
      new Map([
        [0, 1],
        [1, 3],
      ]),
      [],
    ],
    [
      "a fence entry not read: no answer (the owner waits a whole window instead)",
      [entry(0, 1, 9_000, newOrder()), entry(0, 2, 9_100, fence(7))],
      new Map([
        [0, 2],
        [1, 3],
      ]),
      undefined,
    ],
    [
      "an earlier owner's fence in our entry does not end the count: only ours does",
      [entry(0, 4, 9_000, fence(5), newOrder(), fence(7), newOrder())],
      new Map([[0, 4]]),
      [0],
    ],
  ];
  it.each(cases)("%s", (_name, entries, fences, ages) => {
    expect(ordersBeforeFences(entries, "acc", 7, fences)).toEqual(ages);
  });
});
