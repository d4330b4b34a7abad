import { commandStreamName } from "@tradeplane/contracts";
import { venueProvisioningPlan, ProvisioningConflictError, type Logger } from "@tradeplane/platform";
import { tradingVenueSchema, type TradingVenue } from "../api/v1alpha1/index.ts";
import { streamSettings } from "../desired/service-configs.ts";
import { venueChildren } from "../desired/venue-children.ts";
import type { AdminTokens } from "../desired/secrets.ts";
import {
  ADMIN_TOKEN_KEYS,
  RISK_PEER_TOKEN_KEY,
  ANNOTATIONS,
  LABELS,
  names,
  venueModel,
  type OperatorDefaults,
  type VenueModel,
} from "../desired/venue-model.ts";
import type { Applier, ApplyResult } from "../kube/apply.ts";
import { canonicalJson } from "../kube/canonical-json.ts";
import { mergeConditions, type Condition, type ConditionInput } from "../kube/conditions.ts";
import type { KubeClient } from "../kube/kube-client.ts";
import { refOf, type KubeObject } from "../kube/kube-object.ts";
import { nextEngineRollStep, type EnginePartitionState, type RollStep } from "../policies/engine-roll.ts";
import { inMaintenanceWindow } from "../policies/maintenance-window.ts";
import { sequenceReport, type SequenceReport } from "../policies/sequence-status.ts";
import { unsafeStreamChanges } from "../policies/stream-changes.ts";
import { venueConditions, venueCpuPinning, type Problem, type WorkloadState } from "../policies/venue-conditions.ts";
import type { EventRecorder } from "./event-recorder.ts";
import {
  reconcileFixSessionTokens,
  storedFixSessionTokens,
  type FixTokensState,
  type SessionTokenIssuer,
} from "./fix-session-tokens.ts";
import type { StrategyAccounts } from "./strategy-accounts.ts";
import type { ObjectCache } from "./object-cache.ts";
import type { PartitionPrimary, VenueStreams } from "./venue-streams.ts";

/**
 * Reconciles one TradingVenue: observe (caches, streams) -> desired (pure builders) ->
 * apply (one primitive) -> conditions (one helper, written only when changed). Decisions
 * live in policies/; this file only reads, applies and writes status.
 */

export const VENUE_FINALIZER = "tradeplane.io/streams";
/** Child kinds a venue owns; objects of these kinds no longer desired are deleted. */
export const VENUE_CHILD_KINDS = [
  ["v1", "ServiceAccount"],
  ["v1", "Secret"],
  ["v1", "ConfigMap"],
  ["v1", "Service"],
  ["apps/v1", "StatefulSet"],
  ["apps/v1", "Deployment"],
  ["policy/v1", "PodDisruptionBudget"],
  ["networking.k8s.io/v1", "NetworkPolicy"],
] as const;

export interface VenueControllerDeps {
  readonly client: KubeClient;
  readonly applier: Applier;
  readonly cache: ObjectCache;
  readonly streams: VenueStreams;
  readonly events: EventRecorder;
  readonly defaults: OperatorDefaults;
  readonly clock: () => Date;
  readonly newToken: () => string;
  /** The venue's RiskAdmin token RPCs: the FIX gateway's session tokens are issued there. */
  /** The FIX sessions' tokens, and `release` of the venue's gateway connection once it is deleted. */
  readonly sessionTokens: SessionTokenIssuer & Pick<StrategyAccounts, "release">;
  /** Least time between two status writes that only move log sequences (see policies/sequence-status.ts). */
  readonly sequenceStatusIntervalMs: number;
}

/** "retry": again after the queue's backoff (the risk gateway could not issue or revoke a token). */
export type ReconcileOutcome = "done" | "retry" | { after: number };

/** How soon to look again while pods roll or wait: the informers also wake us on changes. */
const ROLL_RECHECK_MS = 5_000;
const HELD_RECHECK_MS = 60_000;

export class TradingVenueController {
  readonly kind = "TradingVenue";
  private readonly deps: VenueControllerDeps;

  constructor(deps: VenueControllerDeps) {
    this.deps = deps;
  }

  /** A child wakes the venue that controls it; an engine pod the venue it is labelled with. */
  ownersOf(object: KubeObject): string[] {
    const ns = object.metadata.namespace;
    if (object.kind === "Pod") {
      const venue = object.metadata.labels?.[LABELS.venue];
      return venue === undefined ? [] : [`${ns}/${venue}`];
    }
    return (object.metadata.ownerReferences ?? [])
      .filter((r) => r.controller === true && r.kind === "TradingVenue")
      .map((r) => `${ns}/${r.name}`);
  }

  async reconcile(namespace: string, name: string, logger: Logger): Promise<ReconcileOutcome> {
    const live = this.deps.cache.get("TradingVenue", namespace, name);
    if (live === undefined) return "done";
    const parsed = tradingVenueSchema.safeParse(live);
    if (live.metadata.deletionTimestamp !== undefined)
      return this.finalize(live, parsed.success ? parsed.data : undefined, logger);
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      await this.writeStatus(live, [{ type: "Ready", status: "False", reason: "InvalidSpec", message }], "Failed", {});
      return "done";
    }
    const venue = parsed.data;
    if (venue.metadata.annotations?.[ANNOTATIONS.paused] === "true") {
      const previous = conditionsOf(live).filter((c) => c.type !== "ReconciliationPaused");
      await this.writeStatus(
        live,
        [
          ...previous,
          {
            type: "ReconciliationPaused",
            status: "True",
            reason: "Paused",
            message: `annotation ${ANNOTATIONS.paused} is "true"`,
          },
        ],
        phaseOf(live) ?? "Pending",
        statusExtras(live),
      );
      return "done";
    }
    await this.ensureFinalizer(live);

    const model = venueModel(venue, this.deps.defaults);
    // The partitions' applied sequences are read before the command log's last sequence, so
    // the status never shows a partition ahead of the log (an event follows its command).
    const applied = await this.deps.streams
      .appliedSequences(model.name, model.partitions)
      .catch(() => new Map<number, number>());
    const streams = await this.reconcileStreams(live, venue, logger);
    const fixTokens = await this.fixSessionTokens(live, model);
    const { objects, invalid } = venueChildren(model, this.adminTokens(model), fixTokens, this.riskPeerToken(model));
    if (invalid.length > 0) {
      await this.event(live, "Warning", "InvalidSpec", invalid.join("; "));
      await this.writeStatus(
        live,
        [{ type: "Ready", status: "False", reason: "InvalidSpec", message: invalid.join("; ") }],
        "Failed",
        {},
      );
      return "done";
    }
    await this.applyChildren(live, model, objects, logger);
    const primaries = await this.deps.streams.primaries(model.name).catch(() => new Map<number, PartitionPrimary>());
    const roll = await this.rollEngines(live, model, primaries, logger);
    const sequencesHeldMs = await this.writeVenueStatus(live, model, streams.problem, roll, primaries, fixTokens, {
      lastCommandSequence: streams.lastCommandSequence,
      applied,
    });
    if (fixTokens.problem !== null) return "retry";
    const rollAfter = roll.action === "none" ? undefined : roll.action === "hold" ? HELD_RECHECK_MS : ROLL_RECHECK_MS;
    const after = Math.min(rollAfter ?? Infinity, sequencesHeldMs ?? Infinity);
    return after === Infinity ? "done" : { after };
  }

  /** Provisions the streams; the problem that stopped it, and the command log's last sequence. */
  private async reconcileStreams(
    live: KubeObject,
    venue: TradingVenue,
    logger: Logger,
  ): Promise<{ problem: Problem | null; lastCommandSequence?: number }> {
    const plan = venueProvisioningPlan(streamSettings(venue));
    try {
      const existing = await this.deps.streams.inspect(plan);
      const lastCommandSequence = existing.find((e) => e.name === commandStreamName(venue.metadata.name))?.lastSequence;
      const unsafe = unsafeStreamChanges(existing, plan.streams);
      if (unsafe !== null) {
        if (conditionsOf(live).find((c) => c.type === "StreamsReady")?.reason !== unsafe.reason)
          await this.event(live, "Warning", unsafe.reason, unsafe.message);
        return { problem: unsafe, ...(lastCommandSequence !== undefined ? { lastCommandSequence } : {}) };
      }
      const outcomes = await this.deps.streams.provision(plan, logger);
      for (const o of outcomes)
        if (o.action !== "unchanged")
          await this.event(
            live,
            "Normal",
            o.action === "created" ? "StreamCreated" : "StreamUpdated",
            `${o.kind} ${o.name} ${o.action}${o.changes ? `: ${o.changes.join(", ")}` : ""}`,
          );
      return { problem: null, lastCommandSequence: lastCommandSequence ?? 0 };
    } catch (err) {
      const reason = err instanceof ProvisioningConflictError ? "UnsafeStreamChange" : "StreamsUnavailable";
      logger.warn({ err: (err as Error).message }, "streams not provisioned");
      return { problem: { reason, message: (err as Error).message } };
    }
  }

  /** The venue's admin tokens: the ones in its Secret, or new ones the first time. */
  private adminTokens(model: VenueModel): AdminTokens {
    const secret = this.deps.cache.get("Secret", model.namespace, names.adminToken(model.name));
    const data = (secret?.data ?? {}) as Record<string, string>;
    const tokenOf = (key: string) =>
      data[key] !== undefined ? Buffer.from(data[key], "base64").toString("utf8") : this.deps.newToken();
    return Object.fromEntries(ADMIN_TOKEN_KEYS.map((k) => [k, tokenOf(k)])) as AdminTokens;
  }

  /**
   * The FIX gateway's session tokens: those in the Secret, with tokens issued for new
   * sessions and revoked for removed ones (all of them with FIX disabled). The risk gateway
   * issues them, so nothing is asked of it before its Deployment has a ready pod.
   */
  private async fixSessionTokens(live: KubeObject, model: VenueModel): Promise<FixTokensState> {
    const { fix } = model.venue.spec;
    const ref = {
      apiVersion: "v1",
      kind: "Secret",
      namespace: model.namespace,
      name: names.fixSessionTokens(model.name),
    };
    let stored = storedFixSessionTokens(this.deps.cache.get("Secret", ref.namespace, ref.name));
    // The cache can lag behind the Secret this controller has just written, and a token
    // believed lost is revoked and replaced: ask the API server before issuing.
    const wanted = fix.enabled ? fix.sessions.map((s) => s.id) : [];
    if (wanted.some((id) => !stored.has(id))) stored = storedFixSessionTokens(await this.deps.client.get(ref));
    if (!fix.enabled && stored.size === 0) return { tokens: stored, allIssued: false, problem: null };
    const risk = this.deps.cache.get("Deployment", model.namespace, names.risk(model.name));
    if (((risk?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0) < 1) {
      const waiting = fix.enabled && wanted.every((id) => stored.has(id));
      return {
        tokens: stored,
        allIssued: waiting,
        problem: waiting
          ? null
          : { reason: "WaitingForRiskGateway", message: "session tokens are issued once the risk gateway is ready" },
      };
    }
    const at = { namespace: model.namespace, venue: model.name };
    return reconcileFixSessionTokens(
      this.deps.sessionTokens,
      {
        issued: (id, tokenId, account) =>
          this.event(
            live,
            "Normal",
            "TokenIssued",
            `FIX session ${id}: token ${tokenId} issued for account ${account}`,
          ),
        revoked: (id, tokenId, why) =>
          this.event(live, "Normal", "TokenRevoked", `FIX session ${id}: token ${tokenId} revoked: ${why}`),
      },
      at,
      fix,
      stored,
    );
  }

  /** The risk replicas' peer token: the one in its Secret, or a new one; none with one replica. */
  private riskPeerToken(model: VenueModel): string | undefined {
    if (model.placement.riskPeerTokenFile === undefined) return undefined;
    const secret = this.deps.cache.get("Secret", model.namespace, names.riskPeerToken(model.name));
    const stored = (secret?.data as Record<string, string> | undefined)?.[RISK_PEER_TOKEN_KEY];
    return stored !== undefined ? Buffer.from(stored, "base64").toString("utf8") : this.deps.newToken();
  }

  private async applyChildren(
    live: KubeObject,
    model: VenueModel,
    objects: readonly { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }[],
    logger: Logger,
  ): Promise<void> {
    const desired = new Set<string>();
    for (const object of objects) {
      const ref = refOf(object);
      desired.add(`${object.kind}/${object.metadata.name}`);
      const current = this.deps.cache.get(object.kind, ref.namespace, ref.name);
      // A claim is only created: it cannot shrink, and its owner may be gone (Retain).
      if (object.kind === "PersistentVolumeClaim" && current !== undefined) continue;
      const result = await this.deps.applier.apply(ref, object, current);
      await this.noteApplied(live, object.kind, object.metadata.name, result, logger);
    }
    const owned = (o: KubeObject) =>
      o.metadata.labels?.[LABELS.venue] === model.name &&
      o.metadata.namespace === model.namespace &&
      (o.metadata.ownerReferences ?? []).some((r) => r.uid === live.metadata.uid && r.controller === true);
    for (const [, kind] of VENUE_CHILD_KINDS)
      for (const orphan of this.deps.cache.list(kind, owned))
        if (!desired.has(`${kind}/${orphan.metadata.name}`)) {
          const result = await this.deps.applier.apply(refOf(orphan), null, orphan);
          await this.noteApplied(live, kind, orphan.metadata.name, result, logger);
        }
  }

  private async noteApplied(
    live: KubeObject,
    kind: string,
    name: string,
    result: ApplyResult,
    logger: Logger,
  ): Promise<void> {
    if (result === "noop") return;
    logger.info({ kind, name, result }, `${kind} ${result}`);
    const reason = { created: "Created", patched: "Updated", deleted: "Deleted" }[result];
    await this.event(live, "Normal", `${kind}${reason}`, `${kind} ${name} ${result}`);
  }

  /** Engine pods restart only here (OnDelete): gather their state, let the policy pick a step. */
  private async rollEngines(
    live: KubeObject,
    model: VenueModel,
    primaries: ReadonlyMap<number, PartitionPrimary>,
    logger: Logger,
  ): Promise<RollStep> {
    const partitions: EnginePartitionState[] = model.partitions.map((p) => {
      const set = this.deps.cache.get("StatefulSet", model.namespace, names.engine(model.name, p));
      const status = (set?.status ?? {}) as { updateRevision?: string };
      const pods = this.deps.cache.list(
        "Pod",
        (o) =>
          o.metadata.namespace === model.namespace &&
          o.metadata.labels?.[LABELS.venue] === model.name &&
          o.metadata.labels?.[LABELS.component] === "engine" &&
          o.metadata.labels?.[LABELS.partition] === String(p),
      );
      return {
        partition: p,
        updateRevision: status.updateRevision,
        replicas: model.engineReplicas,
        primary: primaries.get(p)?.pod,
        pods: pods.map((pod) => ({
          name: pod.metadata.name,
          revision: pod.metadata.labels?.["controller-revision-hash"],
          ready: podReady(pod),
          terminating: pod.metadata.deletionTimestamp !== undefined,
        })),
      };
    });
    const windows = model.venue.spec.maintenance.windows;
    const step = nextEngineRollStep(partitions, inMaintenanceWindow(windows, this.deps.clock()));
    if (step.action === "delete-pod") {
      logger.info({ pod: step.pod, partition: step.partition }, step.message);
      await this.deps.client.delete({ apiVersion: "v1", kind: "Pod", namespace: model.namespace, name: step.pod });
      await this.event(live, "Normal", "EnginePodRestarted", step.message);
    }
    return step;
  }

  private async writeVenueStatus(
    live: KubeObject,
    model: VenueModel,
    streams: Problem | null,
    roll: RollStep,
    primaries: ReadonlyMap<number, PartitionPrimary>,
    fixTokens: FixTokensState,
    observed: { lastCommandSequence: number | undefined; applied: ReadonlyMap<number, number> },
  ): Promise<number | undefined> {
    const workload = (kind: string, name: string): WorkloadState | undefined => {
      const o = this.deps.cache.get(kind, model.namespace, name);
      if (o === undefined) return undefined;
      const s = (o.status ?? {}) as { observedGeneration?: number; readyReplicas?: number; updatedReplicas?: number };
      return {
        name,
        generation: o.metadata.generation,
        observedGeneration: s.observedGeneration,
        replicas: (o.spec as { replicas?: number }).replicas ?? 1,
        readyReplicas: s.readyReplicas ?? 0,
        updatedReplicas: s.updatedReplicas ?? 0,
      };
    };
    const engines = model.partitions.map((p) => workload("StatefulSet", names.engine(model.name, p)));
    const conditions: ConditionInput[] = venueConditions({
      streams,
      engines,
      engineUpdatesPending: 0,
      risk: workload("Deployment", names.risk(model.name)),
      marketData: workload("Deployment", names.marketData(model.name)),
      cpu: venueCpuPinning(
        model.venue.spec.engine.cpus,
        model.partitions.map((p) => primaries.get(p)?.cpusAllowed),
      ),
      ...(model.venue.spec.fix.enabled
        ? {
            fixGateway: {
              tokens: fixTokens.problem,
              workload: workload("Deployment", names.fixGateway(model.name)),
            },
          }
        : {}),
      ...(model.venue.spec.journal.enabled
        ? {
            journal: {
              problem: null,
              workload: workload("Deployment", names.journal(model.name)),
            },
          }
        : {}),
    });
    conditions.push(
      roll.action === "hold" || roll.action === "wait" || roll.action === "delete-pod"
        ? {
            type: "UpdatePending",
            status: "True",
            reason: roll.action === "hold" ? roll.reason : "RollingEngines",
            message: roll.message,
          }
        : {
            type: "UpdatePending",
            status: "False",
            reason: "UpToDate",
            message: "every engine pod runs the current spec",
          },
      {
        type: "ReconciliationPaused",
        status: "False",
        reason: "Reconciling",
        message: "the operator reconciles this venue",
      },
    );
    const ready = conditions.find((c) => c.type === "Ready")!;
    const readyPartitions = engines.filter((e) => e !== undefined && e.readyReplicas >= 1).length;
    const phase = ready.status === "True" ? "Running" : streams !== null ? "Degraded" : "Provisioning";
    const ns = model.namespace;
    const previous = sequencesOf(live, model.partitions);
    const extras = (sequences: SequenceReport) => ({
      partitions: model.partitions.map((p) => {
        const primary = primaries.get(p);
        const standby = primary === undefined ? undefined : this.standbyOf(model, p, primary.pod);
        const appliedSequence = sequences.applied.get(p);
        return {
          partition: p,
          ready: (engines[p]?.readyReplicas ?? 0) >= 1,
          ...(primary !== undefined ? { primary: primary.pod } : {}),
          ...(standby !== undefined ? { standby } : {}),
          ...(primary?.cpusAllowed !== undefined ? { cpusAllowed: primary.cpusAllowed } : {}),
          ...(appliedSequence !== undefined ? { appliedSequence } : {}),
        };
      }),
      partitionsReady: `${readyPartitions}/${model.partitions.length}`,
      ...(sequences.lastCommandSequence !== undefined ? { lastCommandSequence: sequences.lastCommandSequence } : {}),
      ...(sequences.updateTime !== undefined ? { sequencesUpdateTime: sequences.updateTime } : {}),
      endpoints: {
        orderEntry: `${names.risk(model.name)}.${ns}.svc:50061`,
        marketData: `${names.marketData(model.name)}.${ns}.svc:50071`,
        marketDataWs: `ws://${names.marketData(model.name)}.${ns}.svc:8081`,
      },
    });
    const timing = { now: this.deps.clock(), minIntervalMs: this.deps.sequenceStatusIntervalMs };
    let decision = sequenceReport(previous, observed, { ...timing, writingAnyway: false });
    let status = this.statusOf(live, conditions, phase, extras(decision.report));
    // Sequences held back ride along for free when something else changed the status.
    if (decision.recheckAfterMs !== undefined && canonicalJson(live.status ?? {}) !== canonicalJson(status)) {
      decision = sequenceReport(previous, observed, { ...timing, writingAnyway: true });
      status = this.statusOf(live, conditions, phase, extras(decision.report));
    }
    await this.deps.applier.applyStatus(refOf(live), status, live);
    return decision.recheckAfterMs;
  }

  /** A ready, running engine pod of the partition that is not its primary (the first by name). */
  private standbyOf(model: VenueModel, partition: number, primary: string): string | undefined {
    return this.deps.cache
      .list(
        "Pod",
        (o) =>
          o.metadata.namespace === model.namespace &&
          o.metadata.labels?.[LABELS.venue] === model.name &&
          o.metadata.labels?.[LABELS.component] === "engine" &&
          o.metadata.labels?.[LABELS.partition] === String(partition) &&
          o.metadata.name !== primary &&
          o.metadata.deletionTimestamp === undefined &&
          podReady(o),
      )
      .map((o) => o.metadata.name)
      .sort()[0];
  }

  private async writeStatus(
    live: KubeObject,
    next: readonly ConditionInput[],
    phase: string,
    extras: Record<string, unknown>,
  ): Promise<void> {
    await this.deps.applier.applyStatus(refOf(live), this.statusOf(live, next, phase, extras), live);
  }

  private statusOf(
    live: KubeObject,
    next: readonly ConditionInput[],
    phase: string,
    extras: Record<string, unknown>,
  ): Record<string, unknown> {
    const generation = live.metadata.generation ?? 0;
    const conditions: Condition[] = mergeConditions(conditionsOf(live), next, generation, this.deps.clock());
    return { ...statusExtras(live), ...extras, phase, observedGeneration: generation, conditions };
  }

  private async ensureFinalizer(live: KubeObject): Promise<void> {
    const finalizers = live.metadata.finalizers ?? [];
    if (finalizers.includes(VENUE_FINALIZER)) return;
    await this.deps.client.mergePatch(refOf(live), {
      metadata: { finalizers: [...finalizers, VENUE_FINALIZER], resourceVersion: live.metadata.resourceVersion },
    });
  }

  /** The venue is going: follow spec.deletionPolicy for the streams, then let it go. */
  private async finalize(live: KubeObject, venue: TradingVenue | undefined, logger: Logger): Promise<ReconcileOutcome> {
    const finalizers = live.metadata.finalizers ?? [];
    if (!finalizers.includes(VENUE_FINALIZER)) return "done";
    await this.revokeFixSessionTokens(live, logger);
    const policy = venue?.spec.deletionPolicy ?? "Retain";
    if (venue !== undefined && policy === "Delete") {
      const removed = await this.deps.streams.remove(venueProvisioningPlan(streamSettings(venue)));
      logger.info({ removed }, "venue deleted: streams removed (deletionPolicy Delete)");
      await this.event(live, "Normal", "StreamsDeleted", `removed ${removed.join(", ") || "nothing"}`);
    } else {
      logger.info({ policy }, "venue deleted: streams retained");
      await this.event(live, "Normal", "StreamsRetained", "deletionPolicy Retain: the streams and buckets stay");
    }
    await this.deps.client.mergePatch(refOf(live), {
      metadata: {
        finalizers: finalizers.filter((f) => f !== VENUE_FINALIZER),
        resourceVersion: live.metadata.resourceVersion,
      },
    });
    // Its risk gateway goes with it: a channel left open would retry a gone address every 5 s.
    this.deps.sessionTokens.release({ namespace: live.metadata.namespace ?? "", venue: live.metadata.name });
    return "done";
  }

  /**
   * The FIX gateway's session tokens outlive the venue in retained buckets: revoke them while
   * the risk gateway still runs (the garbage collector removes it after the finalizer). Best
   * effort: a venue whose gateway is gone for good must still be deletable, so a failure is
   * a Warning Event (revoke by hand with `tradeplane tokens revoke ID`), not a hold.
   */
  private async revokeFixSessionTokens(live: KubeObject, logger: Logger): Promise<void> {
    const at = { namespace: live.metadata.namespace ?? "default", venue: live.metadata.name };
    const secret = this.deps.cache.get("Secret", at.namespace, names.fixSessionTokens(at.venue));
    for (const [id, token] of storedFixSessionTokens(secret))
      try {
        await this.deps.sessionTokens.revokeToken(at, token.account, token.tokenId);
        logger.info({ session: id, tokenId: token.tokenId }, "venue deleted: FIX session token revoked");
        await this.event(live, "Normal", "TokenRevoked", `FIX session ${id}: token ${token.tokenId} revoked`);
      } catch (err) {
        await this.event(
          live,
          "Warning",
          "TokenRevokeFailed",
          `FIX session ${id}: token ${token.tokenId} not revoked (${(err as Error).message}); revoke it by hand`,
        );
      }
  }

  private event(live: KubeObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    return this.deps.events.record(live, type, reason, message, this.deps.clock());
  }
}

function conditionsOf(live: KubeObject): Condition[] {
  return ((live.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).slice();
}

function phaseOf(live: KubeObject): string | undefined {
  return (live.status as { phase?: string } | undefined)?.phase;
}

function statusExtras(live: KubeObject): Record<string, unknown> {
  const { conditions: _c, phase: _p, observedGeneration: _g, ...rest } = (live.status ?? {}) as Record<string, unknown>;
  return rest;
}

/** The sequences the venue's status reports now, for the partitions the spec still has. */
function sequencesOf(live: KubeObject, partitions: readonly number[]): SequenceReport {
  const status = (live.status ?? {}) as {
    lastCommandSequence?: number;
    sequencesUpdateTime?: string;
    partitions?: { partition: number; appliedSequence?: number }[];
  };
  const wanted = new Set(partitions);
  return {
    lastCommandSequence: status.lastCommandSequence,
    applied: new Map(
      (status.partitions ?? []).flatMap((p) =>
        wanted.has(p.partition) && p.appliedSequence !== undefined ? [[p.partition, p.appliedSequence] as const] : [],
      ),
    ),
    updateTime: status.sequencesUpdateTime,
  };
}

function podReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}
