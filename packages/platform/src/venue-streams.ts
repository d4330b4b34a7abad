import {
  accountsBucket,
  commandStreamName,
  commandSubjects,
  eventStreamName,
  eventSubjects,
  fixSessionsBucket,
  leasesBucket,
  ownersBucket,
  snapshotsBucket,
} from "@tradeplane/contracts";
import type { ProvisioningPlan, Storage } from "./jetstream-provisioning.ts";

/** JetStream settings of a venue, as the TradingVenue spec gives them. */
export interface VenueStreamSettings {
  readonly venue: string;
  readonly storage?: Storage;
  readonly replicas?: number;
  /** Command log retention; 0 = keep forever (the default: the log is the truth). */
  readonly commandMaxAgeSeconds?: number;
  readonly commandMaxBytes?: number;
  /** Event stream retention; consumers rebuild from snapshots plus the tail. */
  readonly eventMaxAgeSeconds?: number;
  readonly eventMaxBytes?: number;
  readonly duplicateWindowSeconds?: number;
}

export const DEFAULT_EVENT_MAX_AGE_SECONDS = 7 * 24 * 3600;
export const DEFAULT_DUPLICATE_WINDOW_SECONDS = 120;

/**
 * The streams, KV buckets and object store a venue needs. Pure; shared by the operator
 * and local mode. The command log refuses writes at its limits (`discard: new`) rather
 * than drop its oldest truth; the event stream ages out.
 */
export function venueProvisioningPlan(settings: VenueStreamSettings): ProvisioningPlan {
  const storage = settings.storage ?? "file";
  const replicas = settings.replicas ?? 1;
  const dup = settings.duplicateWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS;
  return {
    streams: [
      {
        name: commandStreamName(settings.venue),
        subjects: [commandSubjects(settings.venue)],
        storage,
        replicas,
        maxAgeSeconds: settings.commandMaxAgeSeconds ?? 0,
        maxBytes: settings.commandMaxBytes ?? 0,
        maxMessages: 0,
        discard: "new",
        duplicateWindowSeconds: dup,
      },
      {
        name: eventStreamName(settings.venue),
        subjects: [eventSubjects(settings.venue)],
        storage,
        replicas,
        maxAgeSeconds: settings.eventMaxAgeSeconds ?? DEFAULT_EVENT_MAX_AGE_SECONDS,
        maxBytes: settings.eventMaxBytes ?? 0,
        maxMessages: 0,
        discard: "old",
        duplicateWindowSeconds: dup,
      },
    ],
    kv: [
      { bucket: leasesBucket(settings.venue), storage, replicas, history: 1 },
      { bucket: accountsBucket(settings.venue), storage, replicas, history: 5 },
      // Which risk gateway replica owns each account (ADR 0003); a key's revision is the owner's epoch.
      { bucket: ownersBucket(settings.venue), storage, replicas, history: 1 },
      // FIX session sequence numbers and sent messages (for resends): the gateway resumes from it.
      { bucket: fixSessionsBucket(settings.venue), storage, replicas, history: 1 },
    ],
    objectStores: [{ bucket: snapshotsBucket(settings.venue), storage, replicas }],
  };
}
