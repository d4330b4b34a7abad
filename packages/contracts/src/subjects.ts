/**
 * NATS JetStream names of a venue: streams, subjects, buckets and event message ids.
 *
 * One venue name feeds the Kubernetes objects of the venue (the TradingVenue's name)
 * and every name here, so it is validated once, in the strictest form any of them
 * needs. Every builder throws InvalidNameError on bad input instead of building a name
 * that NATS or Kubernetes would refuse later, far from the cause.
 *
 * | what                 | name                                        |
 * |----------------------|---------------------------------------------|
 * | command stream       | `<VENUE>_CMD`                               |
 * | command subject      | `tp.<venue>.cmd.<partition>`                |
 * | event stream         | `<VENUE>_EVT`                               |
 * | event subject        | `tp.<venue>.evt.<partition>.<instrument>`   |
 * | leases KV bucket     | `tp_<venue>_leases`                         |
 * | accounts KV bucket   | `tp_<venue>_accounts`                       |
 * | snapshots bucket     | `tp_<venue>_snapshots` (object store)       |
 * | FIX sessions bucket  | `tp_<venue>_fix` (KV)                       |
 * | event message id     | `<commandSeq>-<index of its last event>`    |
 */

/** Longest venue name: a DNS label (RFC 1123) holds at most 63 characters. */
export const VENUE_NAME_MAX_LENGTH = 63;

/** Longest instrument symbol (see proto/tradeplane/v1/common.proto). */
export const INSTRUMENT_SYMBOL_MAX_LENGTH = 32;

/** Largest partition number: partitions are uint32 in the contracts. */
export const PARTITION_MAX = 0xffff_ffff;

/** Largest event index within one command: EngineEvent.index is a uint32. */
export const EVENT_INDEX_MAX = 0xffff_ffff;

/**
 * Subject token used in place of the instrument for an event that has no valid
 * instrument (a rejected command naming an unknown or malformed symbol). Symbols start
 * with a letter or digit, so it never collides with one.
 */
export const UNROUTED_INSTRUMENT = "_";

/** Prefix of every subject and KV bucket of Tradeplane, so venues share a NATS account safely. */
export const SUBJECT_ROOT = "tp";

// A lowercase RFC 1123 label (what Kubernetes calls a DNS-1123 label) that also starts
// with a letter: the operator names Services after the venue, and Service names must be
// RFC 1035 labels.
export const VENUE_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const INSTRUMENT_SYMBOL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** A name or number that cannot be part of a NATS or Kubernetes name. */
export class InvalidNameError extends Error {
  override name = "InvalidNameError";
}

/** True for a valid venue name: 1..63 of [a-z0-9-], starting with a letter, not ending with '-'. */
export function isVenueName(venue: string): boolean {
  return venue.length <= VENUE_NAME_MAX_LENGTH && VENUE_NAME_PATTERN.test(venue);
}

/** True for a valid instrument symbol: 1..32 of [A-Za-z0-9_-], starting with a letter or digit. */
export function isInstrumentSymbol(symbol: string): boolean {
  return symbol.length <= INSTRUMENT_SYMBOL_MAX_LENGTH && INSTRUMENT_SYMBOL_PATTERN.test(symbol);
}

function checkVenue(venue: string): string {
  if (!isVenueName(venue)) {
    throw new InvalidNameError(
      `invalid venue name ${JSON.stringify(venue)}: expected 1..${VENUE_NAME_MAX_LENGTH} characters of ` +
        "a-z, 0-9 and '-', starting with a letter and not ending with '-' (a Kubernetes DNS label)",
    );
  }
  return venue;
}

function checkPartition(partition: number): number {
  if (!Number.isInteger(partition) || partition < 0 || partition > PARTITION_MAX) {
    throw new InvalidNameError(`invalid partition ${String(partition)}: expected an integer 0..${PARTITION_MAX}`);
  }
  return partition;
}

function checkInstrumentToken(instrument: string): string {
  if (instrument !== UNROUTED_INSTRUMENT && !isInstrumentSymbol(instrument)) {
    throw new InvalidNameError(
      `invalid instrument symbol ${JSON.stringify(instrument)}: expected 1..${INSTRUMENT_SYMBOL_MAX_LENGTH} ` +
        `characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit (or "${UNROUTED_INSTRUMENT}")`,
    );
  }
  return instrument;
}

/** The venue name as it appears in stream names: upper case, e.g. "eu-spot" -> "EU-SPOT". */
export function venueStreamPrefix(venue: string): string {
  return checkVenue(venue).toUpperCase();
}

/** The venue's command stream, its durable, totally ordered input log: `<VENUE>_CMD`. */
export function commandStreamName(venue: string): string {
  return `${venueStreamPrefix(venue)}_CMD`;
}

/** Subject of the commands of one engine partition: `tp.<venue>.cmd.<partition>`. */
export function commandSubject(venue: string, partition: number): string {
  return `${SUBJECT_ROOT}.${checkVenue(venue)}.cmd.${checkPartition(partition)}`;
}

/** Subject filter of every command subject of the venue (the command stream's subjects). */
export function commandSubjects(venue: string): string {
  return `${SUBJECT_ROOT}.${checkVenue(venue)}.cmd.*`;
}

/** The venue's event stream, the engine's output: `<VENUE>_EVT`. */
export function eventStreamName(venue: string): string {
  return `${venueStreamPrefix(venue)}_EVT`;
}

/**
 * Subject of an engine event: `tp.<venue>.evt.<partition>.<instrument>`. The instrument
 * must be a valid symbol or UNROUTED_INSTRUMENT; see eventInstrumentToken.
 */
export function eventSubject(venue: string, partition: number, instrument: string): string {
  return `${SUBJECT_ROOT}.${checkVenue(venue)}.evt.${checkPartition(partition)}.${checkInstrumentToken(instrument)}`;
}

/**
 * The subject token for an event's instrument: the symbol itself when valid, otherwise
 * UNROUTED_INSTRUMENT (events about commands that named no valid instrument still need
 * a subject, and arbitrary client text must never become a subject token).
 */
export function eventInstrumentToken(instrument: string): string {
  return isInstrumentSymbol(instrument) ? instrument : UNROUTED_INSTRUMENT;
}

/**
 * Subject filter over the venue's events: all of them (the event stream's subjects), one
 * partition's, one instrument's, or one instrument's on one partition.
 */
export function eventSubjects(venue: string, filter: { partition?: number; instrument?: string } = {}): string {
  const partition = filter.partition === undefined ? "*" : String(checkPartition(filter.partition));
  const instrument = filter.instrument === undefined ? "*" : checkInstrumentToken(filter.instrument);
  return `${SUBJECT_ROOT}.${checkVenue(venue)}.evt.${partition}.${instrument}`;
}

/**
 * The partition token of an event subject (`tp.<venue>.evt.<partition>.<instrument>`), or
 * undefined for a subject of another form. Partitions publish into the one event stream
 * independently, so a reader keeps its position per partition, keyed by this.
 */
export function eventSubjectPartition(subject: string): number | undefined {
  const evt = subject.indexOf(".evt.", SUBJECT_ROOT.length + 2);
  if (!subject.startsWith(`${SUBJECT_ROOT}.`) || evt < 0) return undefined;
  const start = evt + 5;
  const end = subject.indexOf(".", start);
  if (end <= start || end - start > 10) return undefined;
  let partition = 0;
  for (let i = start; i < end; i++) {
    const digit = subject.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9 || (digit === 0 && i === start && end - start > 1)) return undefined;
    partition = partition * 10 + digit;
  }
  return partition <= PARTITION_MAX ? partition : undefined;
}

/** KV bucket of the engine partitions' primary leases: `tp_<venue>_leases`. */
export function leasesBucket(venue: string): string {
  return `${SUBJECT_ROOT}_${checkVenue(venue)}_leases`;
}

/**
 * KV bucket of the risk gateway replicas' account leases (ADR 0003): one key per account,
 * naming the replica that decides its orders, and one liveness key per replica
 * (`_liveness.<holder>`, never an account name): `tp_<venue>_owners`.
 */
export function ownersBucket(venue: string): string {
  return `${SUBJECT_ROOT}_${checkVenue(venue)}_owners`;
}

/** KV bucket of the risk gateway's accounts and limits: `tp_<venue>_accounts`. */
export function accountsBucket(venue: string): string {
  return `${SUBJECT_ROOT}_${checkVenue(venue)}_accounts`;
}

/** KV bucket of the FIX gateway's session state and sent messages: `tp_<venue>_fix`. */
export function fixSessionsBucket(venue: string): string {
  return `${SUBJECT_ROOT}_${checkVenue(venue)}_fix`;
}

/** Bucket of the engine snapshots (a JetStream object store): `tp_<venue>_snapshots`. */
export function snapshotsBucket(venue: string): string {
  return `${SUBJECT_ROOT}_${checkVenue(venue)}_snapshots`;
}

/**
 * JetStream message id of an event message (an `EngineEventBatch`: a run of one command's
 * events about one instrument): `<commandSeq>-<index>` with the index of the run's last
 * event. Publishing with it makes JetStream drop the copy a restarted or failed-over engine
 * publishes again. commandSeq is a JetStream stream sequence (>= 1), index the event's
 * 0-based position in its command's output.
 */
export function eventMsgId(commandSeq: number, index: number): string {
  if (!Number.isSafeInteger(commandSeq) || commandSeq < 1) {
    throw new InvalidNameError(`invalid command sequence ${String(commandSeq)}: expected a safe integer >= 1`);
  }
  if (!Number.isInteger(index) || index < 0 || index > EVENT_INDEX_MAX) {
    throw new InvalidNameError(`invalid event index ${String(index)}: expected an integer 0..${EVENT_INDEX_MAX}`);
  }
  return `${commandSeq}-${index}`;
}
