import { EngineEvent } from "@tradeplane/contracts";
import type { SimInstrument } from "./simulated-venue.ts";

/**
 * A recording: a venue's engine events (its `<VENUE>_EVT` stream) in a file, so that a
 * backtest over it runs the same way weeks later (a stream ages its events out) and without
 * access to the venue's NATS. NDJSON: a header line, then one event per line, each the
 * event's protobuf JSON (`EngineEvent.toJSON`) with its engine partition:
 *
 * ```
 * {"recording":"tradeplane-events","version":1,"venue":"demo","instruments":[{...SimInstrument}]}
 * {"partition":0,"event":{"commandSeq":5000,"timestamp":"...","instrument":"INFY","accepted":{...}}}
 * ```
 */
export const RECORDING_FORMAT = "tradeplane-events";
export const RECORDING_VERSION = 1;

/** Longest piece of an offending line quoted in an error: a bad file must not flood the terminal. */
const QUOTE_MAX = 120;

export type RecordingErrorReason = "empty" | "bad-header" | "not-json" | "bad-event";

/** A recording that cannot be read: `reason` says what, `line` where (1-based; 0 = the file as a whole). */
export class RecordingError extends Error {
  override readonly name = "RecordingError";
  readonly reason: RecordingErrorReason;
  readonly line: number;
  constructor(reason: RecordingErrorReason, line: number, message: string) {
    super(line > 0 ? `line ${line}: ${message}` : message);
    this.reason = reason;
    this.line = line;
  }
}

/** One recorded event and the engine partition that wrote it. */
export interface RecordedEvent {
  readonly partition: number;
  readonly event: EngineEvent;
  /** Its line in the recording's file (1-based), for errors; absent for events read elsewhere. */
  readonly line?: number;
}

export interface RecordingHeader {
  readonly recording: typeof RECORDING_FORMAT;
  readonly version: number;
  readonly venue: string;
  readonly instruments: readonly SimInstrument[];
}

export interface Recording {
  readonly header: RecordingHeader;
  readonly events: readonly RecordedEvent[];
}

/** `text` cut to QUOTE_MAX characters for a message. */
export function quote(text: string): string {
  return text.length > QUOTE_MAX ? `${JSON.stringify(text.slice(0, QUOTE_MAX))}...` : JSON.stringify(text);
}

/** The header line of a recording of `venue` with its instruments. */
export function recordingHeader(venue: string, instruments: readonly SimInstrument[]): string {
  const header: RecordingHeader = { recording: RECORDING_FORMAT, version: RECORDING_VERSION, venue, instruments };
  return JSON.stringify(header);
}

/** One event line of a recording. */
export function recordingLine(e: RecordedEvent): string {
  return JSON.stringify({ partition: e.partition, event: EngineEvent.toJSON(e.event) });
}

const INITIAL_STATES: readonly string[] = ["PRE_OPEN", "CONTINUOUS", "HALTED", "CLOSED"];
const INSTRUMENT_INTS = ["lotSize", "minQty", "maxQty", "maxOrderValue", "referencePrice", "bandPercent"] as const;

function checkHeader(value: unknown): RecordingHeader {
  const h = value as Partial<RecordingHeader> | null;
  const bad = (what: string) => new RecordingError("bad-header", 1, `not a recording header: ${what}`);
  if (typeof h !== "object" || h === null || h.recording !== RECORDING_FORMAT)
    throw bad(`"recording" is not "${RECORDING_FORMAT}" (export one with \`tradeplane events export\`)`);
  if (h.version !== RECORDING_VERSION)
    throw bad(`version ${quote(String(h.version))}, this reads ${RECORDING_VERSION}`);
  if (typeof h.venue !== "string") throw bad(`"venue" is not a string`);
  if (!Array.isArray(h.instruments) || h.instruments.length === 0) throw bad(`"instruments" is not a non-empty list`);
  for (const [n, i] of h.instruments.entries()) {
    const where = `instruments[${n}]`;
    if (typeof i !== "object" || i === null || typeof i.symbol !== "string" || i.symbol === "")
      throw bad(`${where} has no symbol`);
    for (const k of [...INSTRUMENT_INTS, "notionalPerTickLot"] as const)
      if (!Number.isSafeInteger(i[k])) throw bad(`${where}.${k} is not an integer`);
    if (i.tickSize !== undefined && !(Number.isSafeInteger(i.tickSize) && i.tickSize > 0))
      throw bad(`${where}.tickSize is not a positive integer`);
    if (i.tickSlabs !== undefined && i.tickSlabs !== "NSE" && !Array.isArray(i.tickSlabs))
      throw bad(`${where}.tickSlabs is neither "NSE" nor a list`);
    if (!INITIAL_STATES.includes(i.initialState)) throw bad(`${where}.initialState is not one of ${INITIAL_STATES}`);
    if (typeof i.cancelOnHalt !== "boolean") throw bad(`${where}.cancelOnHalt is not true or false`);
  }
  return h as RecordingHeader;
}

/**
 * Reads a recording (see RECORDING_FORMAT) line by line, so that a file is never one string
 * (V8 refuses strings of more than 2^29 characters) nor held twice. Each event line must
 * decode into an event with a body; the events' own fields are checked where they are used
 * (`recordedCommands`).
 */
export class RecordingReader {
  private header: RecordingHeader | undefined;
  private readonly events: RecordedEvent[] = [];
  private n = 0;

  /** The next line of the file (without its line break). */
  line(line: string): void {
    const n = ++this.n;
    if (this.header === undefined) {
      if (line.trim() === "") throw new RecordingError("empty", 0, "the recording is empty (no header line)");
      try {
        this.header = checkHeader(JSON.parse(line));
      } catch (err) {
        if (err instanceof RecordingError) throw err;
        throw new RecordingError("not-json", 1, `not JSON: ${quote(line)}`);
      }
      return;
    }
    if (line.trim() === "") return;
    let raw: { partition?: unknown; event?: unknown };
    try {
      raw = JSON.parse(line) as typeof raw;
    } catch {
      throw new RecordingError("not-json", n, `not JSON: ${quote(line)}`);
    }
    if (typeof raw !== "object" || raw === null || typeof raw.event !== "object" || raw.event === null)
      throw new RecordingError("bad-event", n, `not {"partition":N,"event":{...}}: ${quote(line)}`);
    const partition = raw.partition;
    if (!Number.isSafeInteger(partition) || (partition as number) < 0)
      throw new RecordingError("bad-event", n, `partition ${quote(String(partition))} is not an integer >= 0`);
    let event: EngineEvent;
    try {
      event = EngineEvent.fromJSON(raw.event);
    } catch (err) {
      throw new RecordingError("bad-event", n, `not an engine event (${quote((err as Error).message)})`);
    }
    if (event.body === undefined) throw new RecordingError("bad-event", n, `an event with no body: ${quote(line)}`);
    this.events.push({ partition: partition as number, event, line: n });
  }

  /** The recording read. */
  finish(): Recording {
    if (this.header === undefined) throw new RecordingError("empty", 0, "the recording is empty (no header line)");
    return { header: this.header, events: this.events };
  }
}

/** Reads a whole recording held as text (see RecordingReader). */
export function parseRecording(text: string): Recording {
  const reader = new RecordingReader();
  const lines = text.split("\n");
  // The text's final line break ends the last line; it does not start another.
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) reader.line(line);
  return reader.finish();
}

/** The engine events a recording keeps: every order's life and the instruments' states (book deltas follow from them). */
export function isRecorded(event: EngineEvent): boolean {
  switch (event.body?.$case) {
    case "accepted":
    case "trade":
    case "cancelled":
    case "replaced":
    case "triggered":
    case "expired":
    case "instrumentStateChanged":
      return true;
    default:
      return false;
  }
}

/**
 * The events with every account renamed `a1`, `a2`, ... in order of appearance and every
 * client order id emptied: a recording leaves the venue, and who traded is nobody's business
 * there, while which orders share an account (self-trade prevention) is kept.
 */
export function anonymised(events: readonly RecordedEvent[]): RecordedEvent[] {
  const names = new Map<string, string>();
  const nameOf = (account: string): string => {
    let n = names.get(account);
    if (n === undefined) names.set(account, (n = `a${names.size + 1}`));
    return n;
  };
  return events.map((e) => {
    const b = e.event.body;
    if (b === undefined) return e;
    let body: EngineEvent["body"];
    switch (b.$case) {
      case "trade":
        body = {
          $case: "trade",
          value: {
            ...b.value,
            makerAccount: nameOf(b.value.makerAccount),
            makerClientOrderId: "",
            takerAccount: nameOf(b.value.takerAccount),
            takerClientOrderId: "",
          },
        };
        break;
      case "cancelled":
        body = {
          $case: b.$case,
          value: { ...b.value, account: nameOf(b.value.account), clientOrderId: "", requestClientOrderId: "" },
        };
        break;
      case "replaced":
        body = {
          $case: b.$case,
          value: { ...b.value, account: nameOf(b.value.account), clientOrderId: "", origClientOrderId: "" },
        };
        break;
      case "accepted":
      case "triggered":
      case "expired":
      case "rejected":
        body = {
          $case: b.$case,
          value: { ...b.value, account: nameOf(b.value.account), clientOrderId: "" },
        } as EngineEvent["body"];
        break;
      default:
        return e;
    }
    return { ...e, event: { ...e.event, body } };
  });
}
