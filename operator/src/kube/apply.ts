import { createHash } from "node:crypto";
import type { KubeClient } from "./kube-client.ts";
import { holdsDesired } from "./desired-subset.ts";
import { keyOf, type KubeObject, type ObjectRef } from "./kube-object.ts";
import { canonicalJson } from "./canonical-json.ts";

/**
 * The one way the operator changes an object: `apply(ref, desired | null, live)`.
 * Server-side apply under one field manager with force (the operator owns what it
 * declares), `null` deletes, and nothing is sent when the live object already holds the
 * desired state, so a resync of a healthy cluster writes nothing (Strimzi's
 * `AbstractNamespacedResourceOperator.reconcile`, cert-manager's `apply.go`).
 */
export const FIELD_MANAGER = "tradeplane-operator";

export type ApplyResult = "noop" | "created" | "patched" | "deleted";

export interface Desired {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

export class Applier {
  private readonly client: KubeClient;
  private readonly fieldManager: string;
  /**
   * What each object looked like right after we last applied a given desired state. The
   * server normalises some values (quantities, defaults inside pass-through fields), so a
   * desired object may never look "held" by the live one although applying it changes
   * nothing; the memo stops that from becoming a patch on every resync. It keeps a digest
   * of the desired object, not its text (27 KB per venue at 100 venues), and forgets an
   * object once it is deleted, by us or by the garbage collector (`forget`).
   */
  private readonly applied = new Map<string, { desired: string; resourceVersion: string }>();

  constructor(client: KubeClient, fieldManager = FIELD_MANAGER) {
    this.client = client;
    this.fieldManager = fieldManager;
  }

  async apply(ref: ObjectRef, desired: Desired | null, live: KubeObject | undefined): Promise<ApplyResult> {
    const key = memoKey(ref);
    if (desired === null) {
      this.applied.delete(key);
      if (live === undefined || live.metadata.deletionTimestamp !== undefined) return "noop";
      return (await this.client.delete(ref, live.metadata.uid !== undefined ? { uid: live.metadata.uid } : undefined))
        ? "deleted"
        : "noop";
    }
    const digest = createHash("sha256").update(canonicalJson(desired)).digest("base64");
    if (live !== undefined) {
      if (holdsDesired(live, desired)) return "noop";
      const memo = this.applied.get(key);
      if (memo?.desired === digest && memo.resourceVersion === live.metadata.resourceVersion) return "noop";
    }
    const result = await this.client.apply(desired, this.fieldManager);
    this.applied.set(key, { desired: digest, resourceVersion: result.metadata.resourceVersion ?? "" });
    if (live === undefined) return "created";
    return result.metadata.resourceVersion === live.metadata.resourceVersion ? "noop" : "patched";
  }

  /** Drops what the memo holds about an object that is gone (its informer saw it deleted). */
  forget(ref: ObjectRef): void {
    this.applied.delete(memoKey(ref));
  }

  /** How many objects the memo holds: what a long-running operator keeps between resyncs. */
  get memoSize(): number {
    return this.applied.size;
  }

  /** Status through the status subresource, only when it differs from the live status. */
  async applyStatus(ref: ObjectRef, status: unknown, live: KubeObject): Promise<ApplyResult> {
    // The API server writes maps with sorted keys: compare in that order.
    if (canonicalJson(live.status ?? {}) === canonicalJson(status)) return "noop";
    await this.client.mergePatch(ref, { status }, "status", this.fieldManager);
    return "patched";
  }
}

const memoKey = (ref: ObjectRef): string => `${ref.apiVersion}/${ref.kind}/${keyOf(ref)}`;
