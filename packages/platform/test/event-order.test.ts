import { describe, expect, it } from "vitest";
import { eventMarkOf, EventSequencer, NO_EVENT, type EventMark } from "../src/event-order.ts";

/**
 * One message: `id<prev` in a partition (`p1:`), prev "-" when the message names none, and
 * `^published` after it when it names the prefix its publisher knew stored.
 */
function arrival(spec: string, streamSeq: number) {
  const [p, rest] = spec.includes(":") ? spec.split(":") : ["0", spec];
  const [ids, published] = rest!.split("^");
  const [id, previous] = ids!.split("<");
  return {
    partition: Number(p),
    streamSeq,
    id: eventMarkOf(id)!,
    previous: previous === "-" ? undefined : eventMarkOf(previous),
    ...(published === undefined ? {} : { published: eventMarkOf(published)! }),
    item: spec,
  };
}

function run(stream: string[], initial: (partition: number) => EventMark | undefined = () => NO_EVENT) {
  const sequencer = new EventSequencer<string>(initial);
  const applied: string[] = [];
  stream.forEach((spec, i) => applied.push(...sequencer.accept(arrival(spec, i + 1))));
  return { applied: applied.map((s) => s.split("<")[0]), sequencer };
}

function gaps(stream: string[]): number {
  return run(stream).sequencer.gapsSkipped;
}

describe("EventSequencer", () => {
  const cases: { name: string; stream: string[]; applied: string[]; waiting?: number }[] = [
    {
      name: "passes messages that come in order",
      stream: ["1-0<0--1", "2-1<1-0", "4-0<2-1"],
      applied: ["1-0", "2-1", "4-0"],
    },
    {
      name: "holds a message until the lost one before it is resent, then applies both in order",
      stream: ["1-0<0--1", "3-0<2-0", "4-0<3-0", "2-0<1-0"],
      applied: ["1-0", "2-0", "3-0", "4-0"],
    },
    {
      name: "drops a message stored twice, held or applied",
      stream: ["1-0<0--1", "3-0<2-0", "3-0<2-0", "2-0<1-0", "2-0<1-0", "1-0<0--1"],
      applied: ["1-0", "2-0", "3-0"],
    },
    {
      name: "keeps each partition apart: a gap in one does not hold another",
      stream: ["0:5-0<0--1", "1:7-0<6-0", "0:8-0<5-0", "1:6-0<0--1"],
      applied: ["0:5-0", "0:8-0", "1:6-0", "1:7-0"],
    },
    {
      name: "applies messages that name no predecessor as they come (a stream written before the header)",
      stream: ["1-0<-", "3-0<-", "2-0<-"],
      applied: ["1-0", "3-0"],
    },
    {
      name: "skips a gap at once when the message names it stored before it (deleted from the stream)",
      stream: ["1-0<0--1", "2-0<1-0", "4-0<3-0^3-0", "5-0<4-0^4-0"],
      applied: ["1-0", "2-0", "4-0", "5-0"],
    },
    {
      name: "waits for a gap the publisher had not stored yet (a resend may still come)",
      stream: ["1-0<0--1", "3-0<2-0^1-0", "2-0<1-0^1-0"],
      applied: ["1-0", "2-0", "3-0"],
    },
    {
      name: "releases held messages once a later message shows their gap was stored and is gone",
      stream: ["1-0<0--1", "3-0<2-0^1-0", "4-0<3-0^1-0", "5-0<4-0^2-0"],
      applied: ["1-0", "3-0", "4-0", "5-0"],
    },
    {
      name: "gives up on a gap only in the partition whose message names it",
      stream: ["0:1-0<0--1", "1:2-0<0--1", "0:4-0<3-0", "1:5-0<2-0^3-0"],
      applied: ["0:1-0", "1:2-0", "1:5-0"],
      waiting: 1,
    },
    {
      name: "waits while the lost message has not come",
      stream: ["1-0<0--1", "3-0<2-0", "4-0<3-0"],
      applied: ["1-0"],
      waiting: 2,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const { applied, sequencer } = run(c.stream);
      expect(applied).toEqual(c.applied);
      expect(sequencer.waiting).toBe(c.waiting ?? 0);
    });

  it("counts each gap given up on", () => {
    expect(gaps(["1-0<0--1", "3-0<2-0^1-0", "4-0<3-0^1-0", "5-0<4-0^2-0"])).toBe(1);
    expect(gaps(["1-0<0--1", "3-0<2-0", "5-0<4-0^4-0"])).toBe(2);
    expect(gaps(["1-0<0--1", "2-0<1-0^1-0"])).toBe(0);
  });

  it("starts from the reader's loaded marks", () => {
    const { applied } = run(["2-0<1-0", "3-0<2-0"], () => ({ cmdSeq: 2, index: 0 }));
    expect(applied).toEqual(["3-0"]);
  });

  it("resumes a restarted reader before the first message it holds", () => {
    const { sequencer } = run(["1-0<0--1", "3-0<2-0", "4-0<3-0"]);
    expect(sequencer.resumeAfter(3)).toBe(1);
    expect(run(["1-0<0--1"]).sequencer.resumeAfter(1)).toBe(1);
  });

  it("starts a partition it has no mark for at the first message it sees (a reader starting after messages aged out)", () => {
    const { applied } = run(["7-0<6-0", "9-0<8-0", "8-0<7-0", "7-0<6-0"], () => undefined);
    expect(applied).toEqual(["7-0", "8-0", "9-0"]);
  });

  it("gives up on a lost message once more messages wait than it may hold, in order and counted", () => {
    const sequencer = new EventSequencer<string>(() => NO_EVENT, 2);
    const applied = ["1-0<0--1", "4-0<3-0", "3-0<2-0", "5-0<4-0", "6-0<5-0"].flatMap((spec, i) =>
      sequencer.accept(arrival(spec, i + 1)),
    );
    expect(applied.map((s) => s.split("<")[0])).toEqual(["1-0", "3-0", "4-0", "5-0", "6-0"]);
    expect(sequencer.gapsSkipped).toBe(1);
    expect(sequencer.waiting).toBe(0);
  });
});
