// Acceptance cases named after the FIX session-level test cases (FIX Session Layer Test
// Cases, FIX 4.4): numbers in the names follow that document.
import { describe, expect, it } from "vitest";
import { SessionEnd, SessionState } from "../../src/domain/session.ts";
import { frame } from "../support/fix-text.ts";
import { SessionHarness, T0 } from "../support/session-harness.ts";

function loggedOn(settings = {}): SessionHarness {
  const h = new SessionHarness(settings);
  h.logon();
  expect(h.session.state).toBe(SessionState.Active);
  return h;
}

describe("1B Receive Logon", () => {
  it("a: answers a valid Logon with a Logon of the same HeartBtInt", () => {
    const h = new SessionHarness();
    const [answer] = h.logon();
    expect(answer).toMatchObject({ 35: "A", 49: "VENUE", 56: "CLIENT", 34: "1", 98: "0", 108: "30" });
    expect(h.session.state).toBe(SessionState.Active);
  });

  it("b: answers a Logon with MsgSeqNum too high with Logon then ResendRequest", () => {
    const h = new SessionHarness({}, { nextSenderSeq: 1, nextTargetSeq: 1 });
    const sent = h.logon("", { seq: 5 });
    expect(sent.map((f) => f[35])).toEqual(["A", "2"]);
    expect(sent[1]).toMatchObject({ 7: "1", 16: "0" });
  });

  it("c: disconnects on a Logon with MsgSeqNum too low, sending nothing", () => {
    const h = new SessionHarness({}, { nextSenderSeq: 1, nextTargetSeq: 10 });
    expect(h.logon("", { seq: 3 })).toEqual([]);
    expect(h.disconnected).toMatch(/MsgSeqNum too low, expecting 10 but received 3/);
    expect(h.ended).toBe(SessionEnd.SeqTooLow);
  });

  it("d: disconnects when the first message is not a Logon", () => {
    const h = new SessionHarness();
    expect(h.send("D", "11=x")).toEqual([]);
    expect(h.disconnected).toBe("first message is not a Logon");
    expect(h.ended).toBe(SessionEnd.LogonRefused);
  });

  it.each([
    ["an unknown SenderCompID", { sender: "OTHER" }, "", "CompID problem", SessionEnd.LogonRefused],
    ["a HeartBtInt out of range", {}, "", "HeartBtInt", SessionEnd.LogonRefused],
    ["a wrong password", { password: "s3cret" }, "554=nope", "bad credentials", SessionEnd.BadCredentials],
  ])("e: refuses a Logon with %s", (_name, opts, extra, reason, end) => {
    const h = new SessionHarness("password" in opts ? { password: opts.password } : {});
    const body = _name.includes("HeartBtInt") ? "98=0|108=0" : `98=0|108=30${extra ? `|${extra}` : ""}`;
    expect(h.send("A", body, "sender" in opts ? { sender: opts.sender } : {})).toEqual([]);
    expect(h.disconnected).toContain(reason);
    expect(h.ended).toBe(end);
  });

  it("accepts the right password", () => {
    const h = new SessionHarness({ password: "s3cret" });
    expect(h.logon("554=s3cret").map((f) => f[35])).toEqual(["A"]);
  });

  it("resets both sequence numbers on ResetSeqNumFlag=Y and forgets stored messages", () => {
    const h = new SessionHarness({}, { nextSenderSeq: 40, nextTargetSeq: 30 });
    h.store.set(39, Buffer.from("old"));
    const [answer] = h.logon("141=Y", { seq: 1 });
    expect(answer).toMatchObject({ 35: "A", 34: "1", 141: "Y" });
    expect(h.session.sequences).toEqual({ nextSenderSeq: 2, nextTargetSeq: 2 });
    expect(h.store.has(39)).toBe(false);
  });

  it("disconnects when no Logon arrives in time", () => {
    const h = new SessionHarness({ logonTimeoutMs: 5_000 });
    h.tick(5_000);
    expect(h.disconnected).toBe("no Logon in time");
  });
});

describe("2 Receive message standard header", () => {
  it("a: accepts a message with the expected MsgSeqNum and hands it on", () => {
    const h = loggedOn();
    expect(h.send("D", "11=ord-1")).toEqual([]);
    expect(h.applications).toEqual(["D"]);
    expect(h.session.sequences.nextTargetSeq).toBe(3);
  });

  it("b: sequence too high: sends a ResendRequest once and ignores the message", () => {
    const h = loggedOn();
    const sent = h.send("D", "11=ord-1", { seq: 5 });
    expect(sent).toMatchObject([{ 35: "2", 7: "2", 16: "0" }]);
    expect(h.send("D", "11=ord-2", { seq: 6 })).toEqual([]); // already asked
    expect(h.applications).toEqual([]);
    // the resent messages fill the gap
    h.send("D", "11=ord-a", { seq: 2 });
    h.send("D", "11=ord-b", { seq: 3 });
    expect(h.applications).toEqual(["D", "D"]);
    expect(h.session.sequences.nextTargetSeq).toBe(4);
  });

  it("c: sequence too low without PossDupFlag: Logout and disconnect", () => {
    const h = loggedOn();
    h.send("D", "11=ord-1");
    const sent = h.send("D", "11=ord-2", { seq: 2 });
    expect(sent).toMatchObject([{ 35: "5", 58: "MsgSeqNum too low, expecting 3 but received 2" }]);
    expect(h.disconnected).toContain("MsgSeqNum too low");
  });

  it("d: garbled message (bad CheckSum): ignored, MsgSeqNum not used", () => {
    const h = loggedOn();
    const bad = frame(`35=D|49=CLIENT|56=VENUE|34=2|52=20260301-12:00:00|11=x`, { checksum: 7 });
    expect(h.bytes(bad)).toEqual([]);
    expect(h.session.sequences.nextTargetSeq).toBe(2);
    h.send("D", "11=ord-1", { seq: 2 });
    expect(h.applications).toEqual(["D"]);
  });

  it("e: PossDupFlag=Y with OrigSendingTime after SendingTime: Reject and Logout", () => {
    const h = loggedOn();
    const sent = h.send("D", "11=ord-1", {
      seq: 2,
      header: `43=Y|122=20260301-12:05:00`,
    });
    expect(sent.map((f) => f[35])).toEqual(["3", "5"]);
    expect(sent[0]).toMatchObject({ 45: "2", 371: "122", 373: "10" });
  });

  it("f: PossDupFlag=Y without OrigSendingTime: Reject, required tag missing", () => {
    const h = loggedOn();
    const sent = h.send("D", "11=ord-1", { seq: 2, header: "43=Y" });
    expect(sent).toMatchObject([{ 35: "3", 45: "2", 371: "122", 373: "1" }]);
    expect(h.session.sequences.nextTargetSeq).toBe(3);
  });

  it("m: PossDupFlag=Y with MsgSeqNum below the expected: ignored", () => {
    const h = loggedOn();
    h.send("D", "11=ord-1");
    expect(h.send("D", "11=ord-1", { seq: 2, header: "43=Y|122=20260301-11:59:59" })).toEqual([]);
    expect(h.applications).toEqual(["D"]);
    expect(h.disconnected).toBeUndefined();
  });

  it("g: wrong BeginString: Logout and disconnect", () => {
    const h = loggedOn();
    const sent = h.bytes(frame("35=D|49=CLIENT|56=VENUE|34=2|52=20260301-12:00:00", { begin: "FIX.4.2" }));
    expect(sent.map((f) => f[35])).toEqual(["5"]);
    expect(h.disconnected).toBe("wrong BeginString");
  });

  it("h: wrong SenderCompID: Reject (CompID problem) and Logout", () => {
    const h = loggedOn();
    const sent = h.send("D", "11=ord-1", { sender: "INTRUDER" });
    expect(sent.map((f) => f[35])).toEqual(["3", "5"]);
    expect(sent[0]).toMatchObject({ 373: "9" });
    expect(h.disconnected).toBe("CompID problem");
  });

  it("i: wrong BodyLength: ignored", () => {
    const h = loggedOn();
    const bad = frame("35=D|49=CLIENT|56=VENUE|34=2|52=20260301-12:00:00|11=x", { bodyLength: 20 });
    expect(h.bytes(bad)).toEqual([]);
    expect(h.session.sequences.nextTargetSeq).toBe(2);
  });

  it("j: SendingTime off by more than two minutes: Reject and Logout", () => {
    const h = loggedOn();
    const sent = h.send("D", "11=ord-1", { sendingTime: T0 - 121_000 });
    expect(sent.map((f) => f[35])).toEqual(["3", "5"]);
    expect(sent[0]).toMatchObject({ 45: "2", 371: "52", 373: "10" });
  });

  it("k: an administrative MsgType we do not know: Reject, invalid MsgType", () => {
    const h = loggedOn();
    const sent = h.bytes(frame("35=|49=CLIENT|56=VENUE|34=2|52=20260301-12:00:00"));
    expect(sent).toMatchObject([{ 35: "3", 45: "2", 373: "4" }]);
  });
});

describe("3 Receive message standard trailer", () => {
  it("b: invalid CheckSum: ignored", () => {
    const h = loggedOn();
    expect(h.bytes(frame("35=0|49=CLIENT|56=VENUE|34=2|52=20260301-12:00:00", { checksum: 3 }))).toEqual([]);
    expect(h.session.sequences.nextTargetSeq).toBe(2);
  });
});

describe("4 and 6: heartbeat and test request", () => {
  it("4: sends a Heartbeat after HeartBtInt without sending", () => {
    const h = loggedOn();
    expect(h.tick(29_000)).toEqual([]);
    h.send("0");
    expect(h.tick(1_000)).toMatchObject([{ 35: "0" }]);
  });

  it("5: answers a TestRequest with a Heartbeat carrying its TestReqID", () => {
    const h = loggedOn();
    expect(h.send("1", "112=ping-7")).toMatchObject([{ 35: "0", 112: "ping-7" }]);
  });

  it("6: heartbeat and test request timeout: TestRequest after silence, then Logout and disconnect", () => {
    const h = loggedOn();
    h.tick(30_000); // our heartbeat
    const probe = h.tick(6_000);
    expect(probe).toMatchObject([{ 35: "1", 112: "TEST-1" }]);
    const end = h.tick(36_000);
    expect(end).toMatchObject([{ 35: "5", 58: "test request timeout" }]);
    expect(h.disconnected).toBe("test request timeout");
  });

  it("6: no TestRequest and no timeout while we are not reading the connection (flow control); heartbeats still go out", () => {
    const h = loggedOn();
    expect(h.tick(30_000, true)).toMatchObject([{ 35: "0" }]);
    expect(h.tick(36_000, true)).toMatchObject([{ 35: "0" }]);
    expect(h.tick(36_000, true)).toMatchObject([{ 35: "0" }]);
    expect(h.disconnected).toBeUndefined();
    // Reading again: the peer's silence counts from the last tick that excused it.
    expect(h.tick(30_000)).toMatchObject([{ 35: "0" }]);
    expect(h.tick(6_000)).toMatchObject([{ 35: "1" }]);
  });

  it("6: the TestRequest answered: the session goes on", () => {
    const h = loggedOn();
    h.tick(36_000);
    h.send("0", "112=TEST-1");
    h.tick(36_000);
    expect(h.disconnected).toBeUndefined();
  });
});

describe("8 Receive ResendRequest", () => {
  it("resends application messages with PossDupFlag and OrigSendingTime and gap-fills administrative ones", () => {
    const h = loggedOn(); // our Logon is 1
    h.venueSends("ord-1"); // 2
    h.tick(30_000); // heartbeat 3
    h.venueSends("ord-2"); // 4
    h.now += 1_000;
    const sent = h.send("2", "7=1|16=0");
    expect(sent).toMatchObject([
      { 35: "4", 34: "1", 43: "Y", 123: "Y", 36: "2" },
      { 35: "8", 34: "2", 43: "Y", 122: "20260301-12:00:00.000", 11: "ord-1" },
      { 35: "4", 34: "3", 123: "Y", 36: "4" },
      { 35: "8", 34: "4", 43: "Y", 11: "ord-2" },
    ]);
    expect(h.session.sequences.nextSenderSeq).toBe(5);
  });

  it("gap-fills messages it no longer holds", () => {
    const h = loggedOn();
    h.venueSends("ord-1");
    h.store.clear();
    expect(h.send("2", "7=1|16=2")).toMatchObject([{ 35: "4", 34: "1", 36: "3" }]);
  });
});

describe("10 Receive SequenceReset (gap fill)", () => {
  it("a: NewSeqNo above the expected: the expected MsgSeqNum moves to it", () => {
    const h = loggedOn();
    h.send("4", "123=Y|36=10", { seq: 2 });
    expect(h.session.sequences.nextTargetSeq).toBe(10);
  });

  it("b: MsgSeqNum above the expected: ResendRequest", () => {
    const h = loggedOn();
    expect(h.send("4", "123=Y|36=10", { seq: 5 })).toMatchObject([{ 35: "2", 7: "2" }]);
  });

  it("c: MsgSeqNum below the expected with PossDupFlag: ignored", () => {
    const h = loggedOn();
    h.send("0");
    expect(h.send("4", "123=Y|36=3", { seq: 2, header: "43=Y" })).toEqual([]);
    expect(h.disconnected).toBeUndefined();
  });
});

describe("11 Receive SequenceReset (reset)", () => {
  it("a: NewSeqNo above the expected: the expected MsgSeqNum moves, whatever MsgSeqNum says", () => {
    const h = loggedOn();
    h.send("4", "36=20", { seq: 99 });
    expect(h.session.sequences.nextTargetSeq).toBe(20);
  });

  it("c: NewSeqNo below the expected: Reject, value incorrect", () => {
    const h = loggedOn();
    h.send("0");
    expect(h.send("4", "36=2", { seq: 3 })).toMatchObject([{ 35: "3", 371: "36", 373: "5" }]);
  });
});

describe("13 Receive Logout", () => {
  it("b: the client logs out: Logout back and disconnect", () => {
    const h = loggedOn();
    expect(h.send("5")).toMatchObject([{ 35: "5" }]);
    expect(h.disconnected).toBe("logged out by the client");
    expect(h.ended).toBe(SessionEnd.ClientLogout);
  });

  it("a: we log out: disconnect on the answer, or after the timeout", () => {
    const h = loggedOn();
    expect(h.session.logoutNow("shutting down", h.now)).toHaveLength(3);
    h.send("5");
    expect(h.disconnected).toBe("logged out");
    expect(h.ended).toBe(SessionEnd.ServerStop);
    const g = loggedOn();
    g.session.logoutNow("shutting down", g.now);
    g.tick(2_000);
    expect(g.disconnected).toBe("no Logout answer in time");
    expect(g.ended).toBe(SessionEnd.ServerStop);
  });
});

describe("why a logged-on session ends (the code its metric counts)", () => {
  it.each([
    ["a MsgSeqNum too low", (h: SessionHarness) => h.send("0", "", { seq: 1 }), SessionEnd.SeqTooLow],
    ["a second Logon", (h: SessionHarness) => h.send("A", "98=0|108=30"), SessionEnd.InvalidMessage],
    ["a wrong CompID", (h: SessionHarness) => h.send("0", "", { sender: "OTHER" }), SessionEnd.InvalidMessage],
    [
      "a SendingTime far off",
      (h: SessionHarness) => h.send("0", "", { sendingTime: T0 - 10 * 60_000 }),
      SessionEnd.SendingTime,
    ],
    ["a TestRequest unanswered", (h: SessionHarness) => [h.tick(60_000), h.tick(60_000)], SessionEnd.HeartbeatTimeout],
  ])("%s", (_name, act, end) => {
    const h = loggedOn();
    act(h);
    expect(h.ended).toBe(end);
  });
});

describe("14 Receive application or administrative message with a field problem", () => {
  it.each([
    ["a: invalid tag number", "11=x|abc=1", "0"],
    ["d: tag without a value", "11=x|58=", "4"],
  ])("%s: Reject with the reason, MsgSeqNum used", (_name, body, reason) => {
    const h = loggedOn();
    expect(h.send("D", body)).toMatchObject([{ 35: "3", 45: "2", 373: reason }]);
    expect(h.session.sequences.nextTargetSeq).toBe(3);
    expect(h.applications).toEqual([]);
  });

  it("b: TestRequest without TestReqID: Reject, required tag missing", () => {
    const h = loggedOn();
    expect(h.send("1")).toMatchObject([{ 35: "3", 371: "112", 373: "1" }]);
  });
});

describe("throttle", () => {
  it("rejects application messages over the session's rate and lets them through as tokens refill", () => {
    const h = loggedOn({ maxMessagesPerSecond: 2 });
    h.send("D", "11=a");
    h.send("D", "11=b");
    expect(h.send("D", "11=c")).toMatchObject([{ 35: "3", 373: "99" }]);
    h.now += 500;
    expect(h.send("D", "11=d")).toEqual([]);
    expect(h.applications).toEqual(["D", "D", "D"]);
  });
});
