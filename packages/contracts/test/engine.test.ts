import { describe, expect, it } from "vitest";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  CancelReason,
  Command,
  EngineEvent,
  InstrumentState,
  OrderType,
  RejectReason,
  RequestKind,
  Side,
  StpMode,
  TimeInForce,
  type MessageCodec,
} from "../src/index.ts";

const at = (seconds: number, nanos = 0) => ({ seconds, nanos });

/** Commands of every kind, as a gateway or the admin service writes them. */
const commands: Array<[string, Command]> = [
  [
    "a GTD stop-limit order with every field set",
    Command.fromPartial({
      timestamp: at(1_767_225_600, 123_456_789),
      account: "acme-01",
      source: "risk-7d9f-0",
      body: {
        $case: "newOrder",
        value: {
          clientOrderId: "4f7d2c1e-0b9a-4c55-9a51-3f1c2d3e4b5a",
          instrument: "BTC-USD",
          side: Side.SELL,
          orderType: OrderType.STOP_LIMIT,
          timeInForce: TimeInForce.GTD,
          price: 6_499_950,
          stopPrice: 6_500_000,
          qty: 250,
          postOnly: false,
          stpMode: StpMode.CANCEL_MAKER,
          expireTime: at(1_767_312_000, 1),
        },
      },
    }),
  ],
  [
    "a cancel by venue order id",
    Command.fromPartial({
      timestamp: at(1_767_225_600, 1),
      account: "acme-01",
      body: {
        $case: "cancelOrder",
        value: { instrument: "BTC-USD", orderId: 42, clientOrderId: "c-1", reason: CancelReason.CLIENT_REQUEST },
      },
    }),
  ],
  [
    "a replace to a new price and quantity",
    Command.fromPartial({
      timestamp: at(1_767_225_600, 2),
      account: "acme-01",
      body: {
        $case: "replaceOrder",
        value: { instrument: "BTC-USD", orderId: 42, clientOrderId: "r-1", price: 6_500_100, qty: 300 },
      },
    }),
  ],
  [
    "a venue-wide mass cancel for a kill switch",
    Command.fromPartial({
      timestamp: at(1_767_225_600, 3),
      account: "ops:alice",
      body: { $case: "massCancel", value: { allAccounts: true, reason: CancelReason.KILL_SWITCH } },
    }),
  ],
  [
    "an instrument state change with a new reference price",
    Command.fromPartial({
      timestamp: at(1_767_225_600, 4),
      account: "ops:alice",
      body: {
        $case: "setInstrumentState",
        value: {
          instrument: "BTC-USD",
          state: InstrumentState.CONTINUOUS,
          reason: "open",
          referencePrice: 6_500_000,
        },
      },
    }),
  ],
  [
    "a time tick",
    Command.fromPartial({
      timestamp: at(1_767_225_601),
      account: "scheduler",
      body: { $case: "timeTick", value: {} },
    }),
  ],
];

/** Engine events of every kind. */
const events: Array<[string, EngineEvent]> = [
  [
    "an order accepted",
    EngineEvent.fromPartial({
      commandSeq: 1001,
      index: 0,
      timestamp: at(1_767_225_600, 5),
      instrument: "BTC-USD",
      body: {
        $case: "accepted",
        value: {
          orderId: 1001,
          clientOrderId: "a-1",
          account: "acme-01",
          side: Side.BUY,
          orderType: OrderType.LIMIT,
          timeInForce: TimeInForce.GTC,
          price: 6_500_000,
          qty: 10,
          postOnly: true,
          stpMode: StpMode.CANCEL_TAKER,
        },
      },
    }),
  ],
  [
    "a new order rejected by the engine",
    EngineEvent.fromPartial({
      commandSeq: 1002,
      lastInCommand: true,
      instrument: "_",
      body: {
        $case: "rejected",
        value: {
          requestKind: RequestKind.NEW_ORDER,
          reason: RejectReason.UNKNOWN_INSTRUMENT,
          text: "no instrument 'BTC.USD'",
          clientOrderId: "a-2",
          account: "acme-01",
        },
      },
    }),
  ],
  [
    "a trade with the leaves of both orders",
    EngineEvent.fromPartial({
      commandSeq: 1003,
      index: 1,
      instrument: "BTC-USD",
      body: {
        $case: "trade",
        value: {
          tradeId: 77,
          price: 6_500_000,
          qty: 4,
          aggressorSide: Side.SELL,
          makerOrderId: 1001,
          makerAccount: "acme-01",
          makerClientOrderId: "a-1",
          makerLeavesQty: 6,
          takerOrderId: 1003,
          takerAccount: "beta-02",
          takerClientOrderId: "b-1",
          takerLeavesQty: 0,
        },
      },
    }),
  ],
  [
    "the unfilled rest of an IOC order cancelled",
    EngineEvent.fromPartial({
      commandSeq: 1003,
      index: 2,
      instrument: "BTC-USD",
      body: {
        $case: "cancelled",
        value: { orderId: 1003, account: "beta-02", cancelledQty: 1, reason: CancelReason.UNFILLED_REMAINDER },
      },
    }),
  ],
  [
    "a replace that kept priority",
    EngineEvent.fromPartial({
      commandSeq: 1004,
      instrument: "BTC-USD",
      body: {
        $case: "replaced",
        value: {
          orderId: 1001,
          clientOrderId: "a-1b",
          origClientOrderId: "a-1",
          qty: 8,
          leavesQty: 4,
          priorityKept: true,
        },
      },
    }),
  ],
  [
    "a stop triggered",
    EngineEvent.fromPartial({
      commandSeq: 1005,
      index: 3,
      instrument: "BTC-USD",
      body: {
        $case: "triggered",
        value: { orderId: 990, stopPrice: 6_499_000, triggerPrice: 6_498_500, orderType: OrderType.MARKET },
      },
    }),
  ],
  [
    "a GTD order expired",
    EngineEvent.fromPartial({
      commandSeq: 1006,
      instrument: "ETH-USD",
      body: { $case: "expired", value: { orderId: 500, expiredQty: 3, timeInForce: TimeInForce.GTD } },
    }),
  ],
  [
    "an instrument halted",
    EngineEvent.fromPartial({
      commandSeq: 1007,
      instrument: "ETH-USD",
      body: {
        $case: "instrumentStateChanged",
        value: { previousState: InstrumentState.CONTINUOUS, state: InstrumentState.HALTED, reason: "volatility" },
      },
    }),
  ],
  [
    "an L2 book delta",
    EngineEvent.fromPartial({
      commandSeq: 1003,
      index: 4,
      lastInCommand: true,
      instrument: "BTC-USD",
      body: {
        $case: "bookDelta",
        value: {
          changes: [
            { side: Side.BUY, price: 6_500_000, qty: 6, orderCount: 1 },
            { side: Side.SELL, price: 6_500_100, qty: 0, orderCount: 0 },
          ],
        },
      },
    }),
  ],
  [
    "a mass cancel completed",
    EngineEvent.fromPartial({
      commandSeq: 1008,
      lastInCommand: true,
      body: { $case: "massCancelCompleted", value: { account: "acme-01", cancelledCount: 12 } },
    }),
  ],
];

function roundTrip<T>(codec: MessageCodec<T>, message: T): T {
  return codec.decode(codec.encode(message).finish());
}

describe("Command", () => {
  it.each(commands)("survives an encode/decode round trip: %s", (_name, command) => {
    const bytes = Command.encode(command).finish();
    const decoded = Command.decode(bytes);
    expect(decoded).toEqual(command);
    expect(Command.encode(decoded).finish()).toEqual(bytes);
  });

  it("keeps the gateway timestamp exact to the nanosecond", () => {
    const command = commands[0]![1];
    expect(roundTrip(Command, command).timestamp).toEqual({ seconds: 1_767_225_600, nanos: 123_456_789 });
  });

  it("encodes a new order to the bytes v1 committed to (field numbers are the wire contract)", () => {
    const command = Command.fromPartial({
      timestamp: at(1, 2),
      account: "a",
      body: {
        $case: "newOrder",
        value: { clientOrderId: "c", instrument: "X", side: Side.BUY, orderType: OrderType.LIMIT, price: 5, qty: 3 },
      },
    });
    // timestamp {1, 2} | account "a" | new_order {client_order_id "c", instrument "X",
    // side BUY, order_type LIMIT, price 5, qty 3}
    const golden = [
      "0a04" + "0801" + "1002",
      "120161",
      "520e" + "0a0163" + "120158" + "1801" + "2001" + "3005" + "4003",
    ];
    expect(Buffer.from(Command.encode(command).finish()).toString("hex")).toBe(golden.join(""));
  });

  it("skips fields it does not know, so older readers accept newer writers", () => {
    const bytes = Command.encode(commands[1]![1]).finish();
    // Field 99, varint 7: tag (99 << 3 | 0) = 792 = varint 0x98 0x06.
    const withUnknown = new Uint8Array([...bytes, 0x98, 0x06, 0x07]);
    expect(Command.decode(withUnknown)).toEqual(commands[1]![1]);
  });

  it("refuses a 64-bit value that a JavaScript number cannot hold exactly", () => {
    const bytes = Command.encode(
      Command.fromPartial({ body: { $case: "cancelOrder", value: { orderId: Number.MAX_SAFE_INTEGER } } }),
    ).finish();
    expect(roundTrip(Command, Command.decode(bytes)).body).toEqual({
      $case: "cancelOrder",
      value: expect.objectContaining({ orderId: Number.MAX_SAFE_INTEGER }),
    });
    // order_id = 2^53 + 2 inside CancelOrderCommand (field 2, varint) inside Command field 11.
    const tooBig = new Uint8Array([0x5a, 0x09, 0x10, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(() => Command.decode(tooBig)).toThrow(/MAX_SAFE_INTEGER/);
  });

  it.each([
    ["zero", 0],
    ["one", 1],
    ["2^32 - 1, the largest written as a uint32 varint", 0xffff_ffff],
    ["2^32", 0x1_0000_0000],
    ["a 2026 order id", 48_123_456_789_012],
    ["the largest safe integer", Number.MAX_SAFE_INTEGER],
    ["minus one", -1],
    ["-2^31", -0x8000_0000],
    ["the smallest safe integer", Number.MIN_SAFE_INTEGER],
  ])("writes an int64 of %s as protobuf's int64 varint and reads it back", (_name, value) => {
    const command = Command.fromPartial({
      body: { $case: "replaceOrder", value: { orderId: Math.abs(value), price: value, qty: value } },
    });
    const bytes = Command.encode(command).finish();
    expect(Command.decode(bytes)).toEqual(command);
    // The same bytes as the writer's own int64 encoding (a bigint's varint), field for field.
    const w = new BinaryWriter();
    w.uint32(16).uint64(Math.abs(value)).uint32(32).int64(value).uint32(48).int64(value);
    const inner = value === 0 ? new Uint8Array() : w.finish();
    expect(Buffer.from(bytes).toString("hex")).toContain(Buffer.from(inner).toString("hex"));
  });

  it("writes enums with their full proto names in JSON", () => {
    expect(Command.toJSON(commands[0]![1])).toMatchObject({
      newOrder: { side: "SIDE_SELL", orderType: "ORDER_TYPE_STOP_LIMIT", stpMode: "STP_MODE_CANCEL_MAKER" },
    });
  });
});

describe("EngineEvent", () => {
  it.each(events)("survives an encode/decode round trip: %s", (_name, event) => {
    const bytes = EngineEvent.encode(event).finish();
    const decoded = EngineEvent.decode(bytes);
    expect(decoded).toEqual(event);
    expect(EngineEvent.encode(decoded).finish()).toEqual(bytes);
  });

  it("covers every kind of event body", () => {
    const cases = new Set(events.map(([, event]) => event.body?.$case));
    expect([...cases].sort()).toEqual(
      [
        "accepted",
        "rejected",
        "trade",
        "cancelled",
        "replaced",
        "triggered",
        "expired",
        "instrumentStateChanged",
        "bookDelta",
        "massCancelCompleted",
      ].sort(),
    );
  });

  it("decodes an empty message to defaults, with no body", () => {
    expect(EngineEvent.decode(new Uint8Array())).toEqual({
      commandSeq: 0,
      index: 0,
      lastInCommand: false,
      instrument: "",
      timestamp: undefined,
      body: undefined,
    });
  });
});
