import { describe, expect, it } from "vitest";
import { markOfMessageId, PublishedIndex, RebuildRefusedError } from "../../src/domain/published-index.ts";

/** A stream of partition 0's messages 1001-0, 2001-3, 3001-0 and partition 1's 1500-1, and one foreign message. */
function index(): PublishedIndex {
  const i = new PublishedIndex();
  i.add(1, 0, "1001-0");
  i.add(2, 1, "1500-1");
  i.add(3, 0, "2001-3");
  i.add(4, undefined, undefined);
  i.add(5, 0, "3001-0");
  i.add(6, 0, "2001-3"); // stored twice: the first copy counts
  return i;
}

const refusal = (work: () => unknown): string | undefined => {
  try {
    work();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(RebuildRefusedError);
    return (err as RebuildRefusedError).reason;
  }
};

describe("PublishedIndex", () => {
  it.each([
    ["1001-0", { cmdSeq: 1001, index: 0 }],
    ["2001-17", { cmdSeq: 2001, index: 17 }],
    ["0-1", undefined],
    ["abc", undefined],
    ["12-", undefined],
    [undefined, undefined],
  ])("reads message id %s", (id, mark) => expect(markOfMessageId(id)).toEqual(mark));

  it("gives a rebuilt message its stream sequence, the first copy's when stored twice", () => {
    const i = index();
    expect(i.matchRebuilt(0, "1001-0", 1001)).toBe(1);
    expect(i.matchRebuilt(0, "2001-3", 2001)).toBe(3);
    expect(i.size).toBe(4);
  });

  it("gives 0 to a message older than what the stream holds, and to one after it", () => {
    const i = index();
    expect(i.matchRebuilt(0, "501-0", 501)).toBe(0);
    expect(i.matchRebuilt(0, "4001-0", 4001)).toBe(0);
  });

  it.each([
    ["a message inside the stored range the stream does not hold", 0, "2001-2", 2001],
    ["a message the stream holds on another partition", 1, "1001-0", 1001],
  ])("refuses %s", (_name, partition, id, cmdSeq) => {
    expect(refusal(() => index().matchRebuilt(partition, id, cmdSeq))).toBe("EVENTS_DIVERGED");
  });

  it("refuses when the stream holds a message of an applied command the rebuild did not produce", () => {
    const i = index();
    i.matchRebuilt(0, "1001-0", 1001);
    i.matchRebuilt(1, "1500-1", 1500);
    i.matchRebuilt(0, "2001-3", 2001);
    expect(
      refusal(() =>
        i.checkAllMatched(
          new Map([
            [0, 3001],
            [1, 1500],
          ]),
        ),
      ),
    ).toBe("EVENTS_DIVERGED");
    // Not applied yet (the log ended before it): not missing.
    expect(
      refusal(() =>
        i.checkAllMatched(
          new Map([
            [0, 2999],
            [1, 1500],
          ]),
        ),
      ),
    ).toBeUndefined();
  });

  it("covers the stream up to the message before the first of a command not rebuilt", () => {
    expect(
      index().coveredUpTo(
        new Map([
          [0, 5000],
          [1, 5000],
        ]),
      ),
    ).toBe(6);
    expect(
      index().coveredUpTo(
        new Map([
          [0, 2999],
          [1, 5000],
        ]),
      ),
    ).toBe(4);
    expect(
      index().coveredUpTo(
        new Map([
          [0, 5000],
          [1, 1000],
        ]),
      ),
    ).toBe(1);
  });
});
