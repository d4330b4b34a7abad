import type { Informer } from "../kube/informer.ts";
import type { KubeObject } from "../kube/kube-object.ts";

/**
 * The informers' caches by kind, over however many namespaces the operator watches: the
 * controllers' only source of reads during a reconcile (no GET per object per resync).
 */
export class ObjectCache {
  private readonly byKind = new Map<string, Informer[]>();

  add(informer: Informer): void {
    const list = this.byKind.get(informer.kind) ?? [];
    list.push(informer);
    this.byKind.set(informer.kind, list);
  }

  informers(): Informer[] {
    return [...this.byKind.values()].flat();
  }

  hasSynced(): boolean {
    return this.informers().every((i) => i.hasSynced());
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    for (const informer of this.byKind.get(kind) ?? []) {
      const found = informer.get(namespace, name);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  list(kind: string, filter?: (o: KubeObject) => boolean): KubeObject[] {
    return (this.byKind.get(kind) ?? []).flatMap((i) => i.list(filter));
  }
}
