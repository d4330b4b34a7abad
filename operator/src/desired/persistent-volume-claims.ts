import { labelsOf, names, type VenueModel } from "./venue-model.ts";

/**
 * The journal's volume when its database is PGlite embedded in the journal (no
 * spec.journal.databaseUrlSecret). The journal holds what the event stream may no longer
 * hold (events older than streams.eventMaxAge), so the volume follows the venue's
 * deletionPolicy as its streams do: owned by the venue (removed with it by the garbage
 * collector) only with Delete. The operator creates it and never deletes it, not even when
 * the journal is disabled; its size is only set at creation (a claim cannot shrink, and
 * growing one depends on the storage class): resize it by hand.
 */
export function journalDataClaim(model: VenueModel) {
  const { journal, deletionPolicy } = model.venue.spec;
  return {
    apiVersion: "v1" as const,
    kind: "PersistentVolumeClaim" as const,
    metadata: {
      name: names.journalData(model.name),
      namespace: model.namespace,
      labels: labelsOf(model, "journal"),
      ...(deletionPolicy === "Delete" ? { ownerReferences: [model.owner] } : {}),
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: journal.embeddedStorage } },
    },
  };
}
