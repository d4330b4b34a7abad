// FIX 4.4 tag numbers and enumerated values the gateway reads or writes (names as in the
// FIX specification). docs/fix.md lists which message carries which.

export const Tag = {
  Account: 1,
  AvgPx: 6,
  BeginSeqNo: 7,
  BeginString: 8,
  BodyLength: 9,
  CheckSum: 10,
  ClOrdID: 11,
  CumQty: 14,
  Currency: 15,
  EndSeqNo: 16,
  ExecID: 17,
  ExecInst: 18,
  LastPx: 31,
  LastQty: 32,
  MsgSeqNum: 34,
  MsgType: 35,
  NewSeqNo: 36,
  OrderID: 37,
  OrderQty: 38,
  OrdStatus: 39,
  OrdType: 40,
  OrigClOrdID: 41,
  PossDupFlag: 43,
  Price: 44,
  RefSeqNum: 45,
  SecurityID: 48,
  SenderCompID: 49,
  SendingTime: 52,
  Side: 54,
  Symbol: 55,
  TargetCompID: 56,
  Text: 58,
  TimeInForce: 59,
  TransactTime: 60,
  ExpireDate: 432,
  ExpireTime: 126,
  GapFillFlag: 123,
  OrigSendingTime: 122,
  PossResend: 97,
  RawDataLength: 95,
  RawData: 96,
  EncryptMethod: 98,
  StopPx: 99,
  OrdRejReason: 103,
  HeartBtInt: 108,
  TestReqID: 112,
  MinQty: 110,
  MaxFloor: 111,
  ResetSeqNumFlag: 141,
  NoRelatedSym: 146,
  ExecType: 150,
  LeavesQty: 151,
  SecureDataLen: 90,
  SecureData: 91,
  CxlRejReason: 102,
  XmlDataLen: 212,
  XmlData: 213,
  RefTagID: 371,
  RefMsgType: 372,
  SessionRejectReason: 373,
  BusinessRejectRefID: 379,
  BusinessRejectReason: 380,
  NoMsgTypes: 384,
  MsgDirection: 385,
  CxlRejResponseTo: 434,
  NoPartyIDs: 453,
  PartyID: 448,
  PartyIDSource: 447,
  PartyRole: 452,
  MassCancelRequestType: 530,
  MassCancelResponse: 531,
  MassCancelRejectReason: 532,
  TotalAffectedOrders: 533,
  NoAffectedOrders: 534,
  AffectedOrderID: 535,
  NextExpectedMsgSeqNum: 789,
  OrdStatusReqID: 790,
  Username: 553,
  Password: 554,
  TestMessageIndicator: 464,
  LastLiquidityInd: 851,
  /** Tradeplane: self-trade prevention mode (user-defined range; see docs/fix.md). */
  StpMode: 7928,
  /** Tradeplane: self-trade prevention group (user-defined range). */
  StpGroup: 7929,
} as const;

/** Message types (tag 35) the gateway knows. */
export const MsgType = {
  Heartbeat: "0",
  TestRequest: "1",
  ResendRequest: "2",
  Reject: "3",
  SequenceReset: "4",
  Logout: "5",
  ExecutionReport: "8",
  OrderCancelReject: "9",
  Logon: "A",
  NewOrderSingle: "D",
  OrderCancelRequest: "F",
  OrderCancelReplaceRequest: "G",
  OrderStatusRequest: "H",
  BusinessMessageReject: "j",
  OrderMassCancelRequest: "q",
  OrderMassCancelReport: "r",
} as const;
export type MsgTypeValue = (typeof MsgType)[keyof typeof MsgType];

const ADMIN_TYPES: ReadonlySet<string> = new Set(["0", "1", "2", "3", "4", "5", "A"]);
/** Session-level (administrative) messages: never resent, replaced by SequenceReset-GapFill. */
export function isAdminMsgType(msgType: string): boolean {
  return ADMIN_TYPES.has(msgType);
}

/** SessionRejectReason (373) values used by the gateway. */
export const SessionRejectReason = {
  InvalidTagNumber: 0,
  RequiredTagMissing: 1,
  TagNotDefinedForMessageType: 2,
  UndefinedTag: 3,
  TagSpecifiedWithoutValue: 4,
  ValueIncorrect: 5,
  IncorrectDataFormat: 6,
  CompIdProblem: 9,
  SendingTimeAccuracyProblem: 10,
  InvalidMsgType: 11,
  TagAppearsMoreThanOnce: 13,
  TagSpecifiedOutOfRequiredOrder: 14,
  RepeatingGroupFieldsOutOfOrder: 15,
  IncorrectNumInGroupCount: 16,
  Other: 99,
} as const;

/** BusinessRejectReason (380) values. */
export const BusinessRejectReason = {
  Other: 0,
  UnknownId: 1,
  UnknownSecurity: 2,
  UnsupportedMessageType: 3,
  ApplicationNotAvailable: 4,
  ConditionallyRequiredFieldMissing: 5,
  NotAuthorized: 6,
} as const;

/**
 * Length fields whose next field holds raw bytes of that length (which may contain SOH).
 * Key: the length tag; value: the data tag that must follow it.
 */
export const DATA_FIELDS: ReadonlyMap<number, number> = new Map([
  [Tag.RawDataLength, Tag.RawData],
  [Tag.SecureDataLen, Tag.SecureData],
  [Tag.XmlDataLen, Tag.XmlData],
]);
