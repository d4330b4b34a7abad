import { describe, expect, it } from "vitest";
import { newOrderRateWindow, tryAdmit } from "@tradeplane/risk-checks/order-rate-window";
import { LimitGuard } from "../../src/account/limit-guard.ts";

const MS = 1_000_000;

/** Sends `limit` requests at 0 ms, then asks for one more `afterMs` later. */
function oneMoreAfter(afterMs: number, rateSlackMs: number): boolean {
  const guard = new LimitGuard({ maxOrdersPerSecond: 5, restrictedInstruments: [] }, 0, rateSlackMs);
  for (let i = 0; i < 5; i++) expect(guard.takeToken(0)).toBe(true);
  return guard.takeToken(afterMs * MS);
}

describe("LimitGuard's order rate", () => {
  it.each([
    // after (ms), slack (ms), admitted: the gateway's own window is one second
    [999, 0, false],
    [1_000, 0, true],
    [1_050, 100, false],
    [1_100, 100, true],
  ])("a request %d ms after the limit's worth, with %d ms of slack: admitted %s", (afterMs, slack, admitted) => {
    expect(oneMoreAfter(afterMs, slack)).toBe(admitted);
  });

  it("with slack, what it lets through at the limit's pace also passes the gateway's window when each arrives up to the slack later than the one before", () => {
    const slackMs = 100;
    const guard = new LimitGuard({ maxOrdersPerSecond: 10, restrictedInstruments: [] }, 0, slackMs);
    const gateway = newOrderRateWindow();
    const sent: number[] = [];
    for (let ms = 0; ms < 5_000; ms += 7) if (guard.takeToken(ms * MS)) sent.push(ms);
    // Bunched within the slack: every request delayed by the slack except the first of each
    // window's worth, which arrives at once.
    sent.forEach((ms, i) => {
      const delay = i % 10 === 0 ? 0 : slackMs;
      expect(tryAdmit(gateway, (ms + delay) * MS, 10)).toBe(true);
    });
  });
});

describe("tryAdmit", () => {
  it("holds a window longer than a second when asked", () => {
    const w = newOrderRateWindow();
    expect(tryAdmit(w, 0, 1, 1_500 * MS)).toBe(true);
    expect(tryAdmit(w, 1_200 * MS, 1, 1_500 * MS)).toBe(false);
    expect(tryAdmit(w, 1_500 * MS, 1, 1_500 * MS)).toBe(true);
  });
});
