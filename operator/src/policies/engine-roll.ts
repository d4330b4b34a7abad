/**
 * The next step of rolling a venue's engine pods to their StatefulSets' new revision
 * (the StatefulSets use OnDelete, so nothing restarts until the operator deletes a pod).
 * One pod at a time across the venue; within a partition the standby goes first and the
 * primary only once every other pod of the partition runs the new revision and is ready
 * (a ready standby has replayed the log: it has caught up). Outside a maintenance window
 * nothing is deleted and the roll is reported as held. Pure.
 */
export interface EnginePod {
  readonly name: string;
  readonly revision: string | undefined;
  readonly ready: boolean;
  readonly terminating: boolean;
}

export interface EnginePartitionState {
  readonly partition: number;
  readonly updateRevision: string | undefined;
  readonly replicas: number;
  readonly pods: readonly EnginePod[];
  /** The pod holding the partition's primary lease, when known. */
  readonly primary: string | undefined;
}

export type RollStep =
  | { readonly action: "none" }
  | { readonly action: "hold"; readonly reason: "OutsideMaintenanceWindow"; readonly message: string }
  | { readonly action: "wait"; readonly reason: string; readonly message: string }
  | { readonly action: "delete-pod"; readonly pod: string; readonly partition: number; readonly message: string };

const outdated = (p: EnginePartitionState) =>
  p.updateRevision === undefined ? [] : p.pods.filter((pod) => pod.revision !== p.updateRevision);

/** Pods in the order they may restart: standbys (highest ordinal first), the primary last. */
function restartOrder(p: EnginePartitionState, pods: readonly EnginePod[]): EnginePod[] {
  const ordinal = (name: string) => Number(name.slice(name.lastIndexOf("-") + 1));
  return [...pods].sort((a, b) => {
    if (a.name === p.primary) return 1;
    if (b.name === p.primary) return -1;
    return ordinal(b.name) - ordinal(a.name);
  });
}

export function nextEngineRollStep(partitions: readonly EnginePartitionState[], inWindow: boolean): RollStep {
  const pending = partitions.filter((p) => outdated(p).length > 0);
  if (pending.length === 0) return { action: "none" };
  const names = pending.map((p) => p.partition).join(", ");
  if (!inWindow)
    return {
      action: "hold",
      reason: "OutsideMaintenanceWindow",
      message: `engine partitions ${names} wait for the next maintenance window to restart`,
    };
  for (const p of partitions) {
    const busy = p.pods.find((pod) => pod.terminating || !pod.ready);
    if (busy !== undefined || p.pods.length < p.replicas)
      return {
        action: "wait",
        reason: "EnginePodNotReady",
        message: `partition ${p.partition}: waiting for ${busy?.name ?? "a missing pod"} to be ready before restarting more`,
      };
  }
  const p = pending[0]!;
  const next = restartOrder(p, outdated(p))[0]!;
  return {
    action: "delete-pod",
    pod: next.name,
    partition: p.partition,
    message: `partition ${p.partition}: restarting ${next.name}${next.name === p.primary ? " (primary, after its standby)" : ""} on the new revision`,
  };
}
