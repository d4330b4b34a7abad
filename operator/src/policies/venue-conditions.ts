import type { ConditionInput } from "../kube/conditions.ts";

/**
 * A venue's conditions from what was observed, as named pure checks: each returns a reason
 * and a message when something is wrong, or null when it holds (cert-manager's policy
 * chains). The gatherer in the controller reads; these decide.
 */
export interface Problem {
  readonly reason: string;
  readonly message: string;
}

export interface WorkloadState {
  readonly name: string;
  readonly generation: number | undefined;
  readonly observedGeneration: number | undefined;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
}

export interface VenueObservation {
  readonly streams: Problem | null;
  readonly engines: readonly (WorkloadState | undefined)[];
  /** Engine pods not yet on their StatefulSet's revision (OnDelete). */
  readonly engineUpdatesPending: number;
  readonly risk: WorkloadState | undefined;
  readonly marketData: WorkloadState | undefined;
  readonly cpu: Problem | null | undefined;
  /** The FIX gateway when the spec enables it: its session tokens and its Deployment. */
  readonly fixGateway?: { readonly tokens: Problem | null; readonly workload: WorkloadState | undefined };
  /** The journal when the spec enables it: what keeps it from being deployed, and its Deployment. */
  readonly journal?: { readonly problem: Problem | null; readonly workload: WorkloadState | undefined };
}

export function workloadProblem(what: string, state: WorkloadState | undefined): Problem | null {
  if (state === undefined) return { reason: "NotCreated", message: `${what} does not exist yet` };
  if (state.observedGeneration === undefined || (state.generation ?? 0) > state.observedGeneration)
    return { reason: "RolloutStarting", message: `${state.name}: the controller has not seen the latest spec yet` };
  if (state.readyReplicas < state.replicas)
    return { reason: "PodsNotReady", message: `${state.name}: ${state.readyReplicas}/${state.replicas} pods ready` };
  if (state.updatedReplicas < state.replicas)
    return {
      reason: "RolloutInProgress",
      message: `${state.name}: ${state.updatedReplicas}/${state.replicas} pods updated`,
    };
  return null;
}

export function enginesProblem(engines: readonly (WorkloadState | undefined)[]): Problem | null {
  for (const [p, state] of engines.entries()) {
    const problem = workloadProblem(`engine partition ${p}`, state);
    // OnDelete: updatedReplicas lags until the operator restarts pods; UpdatePending reports it.
    if (problem !== null && problem.reason !== "RolloutInProgress") return problem;
  }
  return null;
}

const condition = (type: string, problem: Problem | null, okReason: string, okMessage: string): ConditionInput =>
  problem === null
    ? { type, status: "True", reason: okReason, message: okMessage }
    : { type, status: "False", reason: problem.reason, message: problem.message };

export function venueConditions(o: VenueObservation): ConditionInput[] {
  const streams = condition(
    "StreamsReady",
    o.streams,
    "Provisioned",
    "streams, buckets and object store match the spec",
  );
  const engine = condition(
    "EngineReady",
    enginesProblem(o.engines),
    "PartitionsReady",
    "every engine partition is ready",
  );
  const risk = condition(
    "RiskReady",
    workloadProblem("the risk gateway", o.risk),
    "Available",
    "every risk gateway replica is ready",
  );
  const marketData = condition(
    "MarketDataReady",
    workloadProblem("market data", o.marketData),
    "Available",
    "every market-data replica is ready",
  );
  const cpu: ConditionInput =
    o.cpu === undefined
      ? {
          type: "CpuPinned",
          status: "Unknown",
          reason: "NotReported",
          message: "no engine has reported the CPUs it may run on",
        }
      : condition("CpuPinned", o.cpu, "ExclusiveCpus", "every engine runs on exactly its requested whole CPUs");
  // Only a venue that runs the gateway has the condition: disabling FIX removes it.
  const fix: ConditionInput[] =
    o.fixGateway === undefined
      ? []
      : [
          condition(
            "FixGatewayReady",
            o.fixGateway.tokens ?? workloadProblem("the FIX gateway", o.fixGateway.workload),
            "Available",
            "the FIX gateway accepts sessions, each with its token",
          ),
        ];
  const parts = [streams, engine, risk, marketData, ...fix];
  const failing = parts.find((c) => c.status !== "True");
  const ready: ConditionInput =
    failing === undefined
      ? { type: "Ready", status: "True", reason: "VenueReady", message: "the venue accepts orders" }
      : { type: "Ready", status: "False", reason: failing.reason, message: `${failing.type}: ${failing.message}` };
  // The journal is a projection off the order path: the venue accepts orders without it,
  // and a journal back up catches up from the event stream. So it is not part of Ready.
  const journal: ConditionInput[] =
    o.journal === undefined
      ? []
      : [
          condition(
            "JournalReady",
            o.journal.problem ?? workloadProblem("the journal", o.journal.workload),
            "Available",
            "the journal projects the event stream and answers queries",
          ),
        ];
  return [...parts, cpu, ...journal, ready];
}

/** CpuPinned from one engine's report: exactly the requested number of CPUs, or the set seen. */
export function cpuPinningProblem(requested: number, cpusAllowed: string): Problem | null {
  const count = cpusAllowed
    .split(",")
    .filter((part) => part.trim() !== "")
    .reduce((n, part) => {
      const [lo, hi] = part.split("-").map(Number);
      return n + (hi === undefined ? 1 : hi! - lo! + 1);
    }, 0);
  return count === requested
    ? null
    : {
        reason: "NotPinned",
        message: `engine may run on CPUs ${cpusAllowed} (${count}), not exactly ${requested} of its own`,
      };
}

/**
 * CpuPinned over a venue's partitions from what each primary reported: a problem as soon as
 * one runs on other CPUs than exactly its own whole ones, null when all are pinned, and
 * undefined (Unknown) while some partition has not reported.
 */
export function venueCpuPinning(
  requested: number,
  reports: readonly (string | undefined)[],
): Problem | null | undefined {
  for (const [p, cpus] of reports.entries()) {
    if (cpus === undefined) continue;
    const problem = cpuPinningProblem(requested, cpus);
    if (problem !== null) return { ...problem, message: `partition ${p}: ${problem.message}` };
  }
  return reports.length > 0 && reports.every((r) => r !== undefined) ? null : undefined;
}
