import type { Logger } from "@tradeplane/platform";
import { strategyDeploymentSchema, type StrategyDeployment } from "../api/v1alpha1/index.ts";
import {
  strategyChildren,
  strategyModel,
  strategyNames,
  TOKEN_ID_ANNOTATION,
  type StrategyToken,
} from "../desired/strategy-workload.ts";
import { upstreamSchemaError } from "../desired/upstream-schemas.ts";
import type { Applier } from "../kube/apply.ts";
import { mergeConditions, type Condition, type ConditionInput } from "../kube/conditions.ts";
import type { KubeClient } from "../kube/kube-client.ts";
import { refOf, type KubeObject } from "../kube/kube-object.ts";
import { lastFigures, positionsReport, type PositionsRead } from "../policies/strategy-figures.ts";
import type { EventRecorder } from "./event-recorder.ts";
import type { ObjectCache } from "./object-cache.ts";
import type { StrategyAccounts, VenueRef } from "./strategy-accounts.ts";

/**
 * Reconciles one StrategyDeployment: the account and its limits on the venue's gateway,
 * a trading token issued once and kept in a Secret, the Deployment (scaled to zero and the
 * account's kill switch engaged while paused), and status with positions and P&L. Deleting
 * it revokes the token before the finalizer lets go.
 */
export const STRATEGY_FINALIZER = "tradeplane.io/strategy-token";
const VENUE_WAIT_MS = 10_000;
const STATUS_REFRESH_MS = 30_000;

export interface StrategyControllerDeps {
  readonly client: KubeClient;
  readonly applier: Applier;
  readonly cache: ObjectCache;
  readonly accounts: StrategyAccounts;
  readonly events: EventRecorder;
  readonly runtimeImage: string;
  readonly clock: () => Date;
}

export class StrategyDeploymentController {
  readonly kind = "StrategyDeployment";
  private readonly deps: StrategyControllerDeps;

  constructor(deps: StrategyControllerDeps) {
    this.deps = deps;
  }

  /** A venue's change wakes the strategies on it; a child wakes its strategy. */
  ownersOf(object: KubeObject): string[] {
    const ns = object.metadata.namespace;
    if (object.kind === "TradingVenue")
      return this.deps.cache
        .list(
          "StrategyDeployment",
          (s) =>
            s.metadata.namespace === ns &&
            (s.spec as { venueRef?: { name?: string } })?.venueRef?.name === object.metadata.name,
        )
        .map((s) => `${ns}/${s.metadata.name}`);
    return (object.metadata.ownerReferences ?? [])
      .filter((r) => r.controller === true && r.kind === "StrategyDeployment")
      .map((r) => `${ns}/${r.name}`);
  }

  async reconcile(namespace: string, name: string, logger: Logger): Promise<"done" | "retry" | { after: number }> {
    const live = this.deps.cache.get("StrategyDeployment", namespace, name);
    if (live === undefined) return "done";
    const parsed = strategyDeploymentSchema.safeParse(live);
    if (live.metadata.deletionTimestamp !== undefined) return this.finalize(live, logger);
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      await this.writeStatus(live, "Failed", [{ type: "Ready", status: "False", reason: "InvalidSpec", message }], {});
      return "done";
    }
    const strategy = parsed.data;
    // A strategy on several venues needs an account and a token on each and a runtime that
    // reaches each venue's services: local mode has that, the operator not yet. Refused
    // before anything is made for it, so nothing is left half-built.
    if ((strategy.spec.venues?.length ?? 0) > 0) {
      const message = `spec.venues names ${strategy.spec.venues!.map((v) => v.venueRef.name).join(", ")}: the operator runs a strategy on one venue (venueRef) for now; run strategies across several venues in local mode (tradeplane up)`;
      await this.writeStatus(
        live,
        "Failed",
        [{ type: "Ready", status: "False", reason: "SeveralVenuesUnsupported", message }],
        {},
      );
      return "done";
    }
    await this.ensureFinalizer(live);
    const at: VenueRef = { namespace, venue: strategy.spec.venueRef.name };
    const venue = this.deps.cache.get("TradingVenue", namespace, at.venue);
    const venueReady = ((venue?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find(
      (c) => c.type === "Ready",
    );
    const model = strategyModel(strategy, this.deps.runtimeImage);
    if (venueReady?.status !== "True") {
      const message =
        venue === undefined
          ? `TradingVenue ${at.venue} does not exist`
          : `TradingVenue ${at.venue} is not ready: ${venueReady?.message ?? "no status yet"}`;
      await this.applyChildren(live, model, this.existingToken(namespace, name), logger);
      await this.writeStatus(
        live,
        "Pending",
        [
          {
            type: "VenueReady",
            status: "False",
            reason: venue === undefined ? "VenueNotFound" : "VenueNotReady",
            message,
          },
          {
            type: "Bound",
            status: "Unknown",
            reason: "WaitingForVenue",
            message: "the account is set up once the venue is ready",
          },
          positionsReport({ ok: false, why: message }, lastFigures(live.status)).condition,
          { type: "Ready", status: "False", reason: "WaitingForVenue", message },
        ],
        { ...lastFigures(live.status) },
      );
      return { after: VENUE_WAIT_MS };
    }
    let token: StrategyToken | undefined;
    let bound: ConditionInput;
    try {
      await this.deps.accounts.ensureAccount(at, strategy.spec.account, strategy.spec.limits);
      token = await this.storedToken(namespace, name);
      if (token === undefined) {
        const label = tokenLabel(namespace, name);
        // A token of ours without its Secret (the Secret deleted by hand, or a crash between
        // issuing and storing) is still valid and in nobody's keeping: revoke it first.
        for (const stale of await this.deps.accounts.tokens(at, strategy.spec.account))
          if (stale.description === label) {
            await this.deps.accounts.revokeToken(at, strategy.spec.account, stale.id);
            await this.event(live, "Normal", "TokenRevoked", `trading token ${stale.id} revoked: its Secret was lost`);
          }
        token = await this.deps.accounts.issueToken(at, strategy.spec.account, label);
        await this.event(
          live,
          "Normal",
          "TokenIssued",
          `trading token ${token.id} issued for account ${strategy.spec.account}`,
        );
      }
      await this.deps.accounts.setKillSwitch(
        at,
        strategy.spec.account,
        strategy.spec.paused,
        strategy.spec.paused ? `StrategyDeployment ${name} paused` : `StrategyDeployment ${name} resumed`,
      );
      bound = {
        type: "Bound",
        status: "True",
        reason: "AccountReady",
        message: `account ${strategy.spec.account} has its limits and a token`,
      };
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "account not set up");
      bound = { type: "Bound", status: "False", reason: "AccountSetupFailed", message: (err as Error).message };
    }
    await this.applyChildren(live, model, token, logger);
    const read: PositionsRead =
      bound.status === "True"
        ? await this.deps.accounts.positions(at, strategy.spec.account).then(
            (positions) => ({ ok: true as const, positions }),
            (err: unknown) => ({ ok: false as const, why: (err as Error).message }),
          )
        : { ok: false, why: bound.message };
    if (!read.ok) logger.warn({ err: read.why }, "positions not read; status keeps the last ones");
    const figures = positionsReport(read, lastFigures(live.status));
    const deployment = this.deps.cache.get("Deployment", namespace, strategyNames.workload(name));
    const available = ((deployment?.status as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0) >= 1;
    const running = strategy.spec.paused || available;
    const ready: ConditionInput =
      bound.status !== "True"
        ? { type: "Ready", status: "False", reason: bound.reason, message: bound.message }
        : running
          ? {
              type: "Ready",
              status: "True",
              reason: strategy.spec.paused ? "Paused" : "Running",
              message: strategy.spec.paused ? "paused: scaled to zero, kill switch engaged" : "the strategy is running",
            }
          : { type: "Ready", status: "False", reason: "PodNotReady", message: "the strategy pod is not ready" };
    const phase =
      bound.status !== "True" ? "Degraded" : strategy.spec.paused ? "Paused" : available ? "Running" : "Pending";
    await this.writeStatus(
      live,
      phase,
      [
        { type: "VenueReady", status: "True", reason: "VenueReady", message: `TradingVenue ${at.venue} is ready` },
        bound,
        figures.condition,
        ready,
      ],
      { ...figures.figures },
    );
    // A gateway that cannot be reached (not up yet, restarting) is tried again with the
    // queue's backoff, not at the next status refresh: no gateway event would wake us.
    return bound.status === "True" ? { after: STATUS_REFRESH_MS } : "retry";
  }

  private existingToken(namespace: string, name: string): StrategyToken | undefined {
    return tokenOf(this.deps.cache.get("Secret", namespace, strategyNames.token(name)));
  }

  /**
   * The token kept in the Secret, asking the API server when the cache has none: the cache
   * can lag behind the Secret this controller has just written, and a token believed lost is
   * revoked and replaced.
   */
  private async storedToken(namespace: string, name: string): Promise<StrategyToken | undefined> {
    return (
      this.existingToken(namespace, name) ??
      tokenOf(
        await this.deps.client.get({ apiVersion: "v1", kind: "Secret", namespace, name: strategyNames.token(name) }),
      )
    );
  }

  private async applyChildren(
    live: KubeObject,
    model: ReturnType<typeof strategyModel>,
    token: StrategyToken | undefined,
    logger: Logger,
  ): Promise<void> {
    for (const object of strategyChildren(model, token)) {
      const invalid = upstreamSchemaError(object);
      if (invalid !== undefined) throw new Error(invalid);
      const ref = refOf(object);
      const result = await this.deps.applier.apply(
        ref,
        object,
        this.deps.cache.get(object.kind, ref.namespace, ref.name),
      );
      if (result !== "noop") {
        logger.info({ kind: object.kind, name: object.metadata.name, result }, `${object.kind} ${result}`);
        await this.event(
          live,
          "Normal",
          `${object.kind}${result === "created" ? "Created" : "Updated"}`,
          `${object.kind} ${object.metadata.name} ${result}`,
        );
      }
    }
  }

  private async finalize(live: KubeObject, logger: Logger): Promise<"done"> {
    const finalizers = live.metadata.finalizers ?? [];
    if (!finalizers.includes(STRATEGY_FINALIZER)) return "done";
    const spec = live.spec as StrategyDeployment["spec"];
    const namespace = live.metadata.namespace ?? "";
    const at: VenueRef = { namespace, venue: spec.venueRef.name };
    const kept = this.existingToken(namespace, live.metadata.name);
    try {
      // The Secret's token, and any other issued for this strategy: with foreground deletion
      // the garbage collector may have removed the Secret already.
      const label = tokenLabel(namespace, live.metadata.name);
      const ids = new Set(kept !== undefined ? [kept.id] : []);
      for (const t of await this.deps.accounts.tokens(at, spec.account)) if (t.description === label) ids.add(t.id);
      for (const id of ids) {
        await this.deps.accounts.revokeToken(at, spec.account, id);
        logger.info({ tokenId: id }, "strategy deleted: token revoked");
        await this.event(live, "Normal", "TokenRevoked", `trading token ${id} revoked`);
      }
    } catch (err) {
      // Held until the gateway answers: a token left valid would outlive its strategy.
      await this.event(
        live,
        "Warning",
        "TokenRevokeFailed",
        `the trading token cannot be revoked yet (${(err as Error).message}); the finalizer holds the deletion`,
      );
      throw err;
    }
    await this.deps.client.mergePatch(refOf(live), {
      metadata: {
        finalizers: finalizers.filter((f) => f !== STRATEGY_FINALIZER),
        resourceVersion: live.metadata.resourceVersion,
      },
    });
    return "done";
  }

  private async ensureFinalizer(live: KubeObject): Promise<void> {
    const finalizers = live.metadata.finalizers ?? [];
    if (finalizers.includes(STRATEGY_FINALIZER)) return;
    await this.deps.client.mergePatch(refOf(live), {
      metadata: { finalizers: [...finalizers, STRATEGY_FINALIZER], resourceVersion: live.metadata.resourceVersion },
    });
  }

  private async writeStatus(
    live: KubeObject,
    phase: string,
    next: readonly ConditionInput[],
    extras: Record<string, unknown>,
  ): Promise<void> {
    const generation = live.metadata.generation ?? 0;
    const previous = (live.status as { conditions?: Condition[] } | undefined)?.conditions;
    const conditions = mergeConditions(previous, next, generation, this.deps.clock());
    await this.deps.applier.applyStatus(
      refOf(live),
      { ...extras, phase, observedGeneration: generation, conditions },
      live,
    );
  }

  private event(live: KubeObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    return this.deps.events.record(live, type, reason, message, this.deps.clock());
  }
}

function tokenOf(secret: KubeObject | undefined): StrategyToken | undefined {
  const token = (secret?.data as Record<string, string> | undefined)?.token;
  const id = secret?.metadata.annotations?.[TOKEN_ID_ANNOTATION];
  return token === undefined || id === undefined
    ? undefined
    : { id, token: Buffer.from(token, "base64").toString("utf8") };
}

/** The label a strategy's tokens are issued with: how its tokens are found again. */
const tokenLabel = (namespace: string, name: string) => `strategy ${namespace}/${name}`;
