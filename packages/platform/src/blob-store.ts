import type { NatsConnection } from "@nats-io/transport-node";
import { Objm, setSha256Backend, type ObjectStore } from "@nats-io/obj";

// The object store digests every object it stores and reads. Its default SHA-256 is pure
// JavaScript (for browsers); on Node the native one is many times faster, and an engine's
// snapshot is digested on the engine's thread.
setSha256Backend("native");

/**
 * Named blobs in a JetStream object store (e.g. the venue's snapshots bucket), for services
 * that keep snapshots without depending on the object-store client themselves.
 */
export interface BlobStore {
  /** Stores `bytes`, or the concatenation of chunks (a large blob written without one big copy). */
  put(name: string, bytes: Uint8Array | readonly Uint8Array[]): Promise<void>;
  /** The blob, or null when there is none by that name. */
  get(name: string): Promise<Uint8Array | null>;
  /** Names of the stored (not deleted) blobs that start with `prefix`, in no set order. */
  list(prefix: string): Promise<string[]>;
  delete(name: string): Promise<void>;
}

/** Opens an existing object-store bucket as a BlobStore. */
export async function openBlobStore(nc: NatsConnection, bucket: string): Promise<BlobStore> {
  return blobStoreOf(await new Objm(nc).open(bucket));
}

export function blobStoreOf(store: ObjectStore): BlobStore {
  return {
    put: async (name, bytes) => {
      if (bytes instanceof Uint8Array) {
        await store.putBlob({ name }, bytes);
        return;
      }
      let next = 0;
      await store.put(
        { name },
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (next < bytes.length) controller.enqueue(bytes[next++]!);
            else controller.close();
          },
        }),
      );
    },
    get: (name) => store.getBlob(name),
    list: async (prefix) =>
      (await store.list()).filter((i) => !i.deleted && i.name.startsWith(prefix)).map((i) => i.name),
    delete: async (name) => {
      await store.delete(name);
    },
  };
}
