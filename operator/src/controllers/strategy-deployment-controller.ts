import type { Logger } from "@tradeplane/platform";
import { strategyDeploymentSchema, type StrategyDeployment } from "../api/v1alpha1/index.ts";
import { venuesOf } from "@tradeplane/strategy-api";
import {
  hasEveryToken,
  strategyChildren,
  strategyModel,
  strategyNames,
  tokensOfSecret,
  type StrategyModel,
  type StrategyTokens,
} from "../desired/strategy-workload.ts";
import { upstreamSchemaError } from "../desired/upstream-schemas.ts";
import { storedVenuePullSecrets } from "../desired/venue-model.ts";
import type { Applier } from "../kube/apply.ts";
import { mergeConditions, type Condition, type ConditionInput } from "../kube/conditions.ts";
import type { KubeClient } from "../kube/kube-client.ts";
import { refOf, type KubeObject } from "../kube/kube-object.ts";
import { lastFigures, positionsReport, type PositionsRead } from "../policies/strategy-figures.ts";
import type { EventRecorder } from "./event-recorder.ts";
import type { ObjectCache } from "./object-cache.ts";
import type { AccountPosition, StrategyAccounts, VenueRef } from "./strategy-accounts.ts";

/**
 * Reconciles one StrategyDeployment on each of its venues (venueRef, then spec.venues; each
 * a TradingVenue in the deployment's namespace): the account and its limits on that venue's
 * gateway, a trading token issued once there and kept in the strategy's Secret (one key per
 * venue), the one Deployment (scaled to zero and every account's kill switch engaged while
 * paused), and status with positions and P&L over all venues. Deleting it revokes every
 * token before the finalizer lets go.
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
  /** The operator's image pull Secrets (--image-pull-secret), for a strategy whose venue names none. */
  readonly pullSecrets: readonly string[];
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
          (s) => s.metadata.namespace === ns && venueNamesOf(s.spec).includes(object.metadata.name),
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
    await this.ensureFinalizer(live);
    const model = strategyModel(
      strategy,
      this.deps.runtimeImage,
      // Its pod pulls with its venue's Secrets (strategyModel says why).
      storedVenuePullSecrets(this.deps.cache.get("TradingVenue", namespace, strategy.spec.venueRef.name), this.deps),
    );
    const notReady = model.venues.flatMap(({ venue }) => {
      const tv = this.deps.cache.get("TradingVenue", namespace, venue);
      const ready = ((tv?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find(
        (c) => c.type === "Ready",
      );
      if (ready?.status === "True") return [];
      return [
        tv === undefined
          ? { reason: "VenueNotFound", message: `TradingVenue ${venue} does not exist` }
          : {
              reason: "VenueNotReady",
              message: `TradingVenue ${venue} is not ready: ${ready?.message ?? "no status yet"}`,
            },
      ];
    });
    if (notReady.length > 0) {
      // Not ready until every venue is: the first missing one gives the reason, every one is named.
      const message = notReady.map((n) => n.message).join("; ");
      await this.applyChildren(live, model, tokensOfSecret(model, this.secretOf(namespace, name)), logger);
      await this.writeStatus(
        live,
        "Pending",
        [
          { type: "VenueReady", status: "False", reason: notReady[0]!.reason, message },
          {
            type: "Bound",
            status: "Unknown",
            reason: "WaitingForVenue",
            message: "the accounts are set up once every venue is ready",
          },
          positionsReport({ ok: false, why: message }, lastFigures(live.status)).condition,
          { type: "Ready", status: "False", reason: "WaitingForVenue", message },
        ],
        { ...lastFigures(live.status) },
      );
      return { after: VENUE_WAIT_MS };
    }
    const tokens: Record<string, StrategyTokens[string]> = {};
    let bound: ConditionInput;
    try {
      await this.bindEveryVenue(live, model, tokens, logger);
      bound = {
        type: "Bound",
        status: "True",
        reason: "AccountReady",
        message:
          model.venues.length === 1
            ? `account ${strategy.spec.account} has its limits and a token`
            : `${model.venues.map((v) => `account ${v.account} on ${v.venue}`).join(", ")}: each has its limits and a token`,
      };
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "account not set up");
      bound = { type: "Bound", status: "False", reason: "AccountSetupFailed", message: (err as Error).message };
    }
    await this.applyChildren(live, model, tokens, logger);
    const read: PositionsRead =
      bound.status === "True" ? await this.positionsOnEveryVenue(model) : { ok: false, why: bound.message };
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
        {
          type: "VenueReady",
          status: "True",
          reason: "VenueReady",
          message: `${model.venues.map((v) => `TradingVenue ${v.venue}`).join(", ")} ${model.venues.length === 1 ? "is" : "are"} ready`,
        },
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

  /**
   * On each venue in turn: the account and its limits, the token (kept, else issued after
   * revoking any of ours whose Secret key was lost), the kill switch as `paused` says. The
   * first venue that fails stops the rest (its error names the venue): the strategy is not
   * bound until every venue is. `tokens` gets the tokens kept so far and each one issued as
   * it is had, so that those had before a failure stay in the Secret.
   */
  private async bindEveryVenue(
    live: KubeObject,
    model: StrategyModel,
    tokens: Record<string, StrategyTokens[string]>,
    logger: Logger,
  ): Promise<void> {
    const { namespace, name } = model;
    const spec = model.strategy.spec;
    const stored = await this.storedTokens(model);
    Object.assign(tokens, stored);
    for (const { venue, account } of model.venues) {
      const at: VenueRef = { namespace, venue };
      try {
        await this.deps.accounts.ensureAccount(at, account, spec.limits);
        let token = stored[venue];
        if (token === undefined) {
          const label = tokenLabel(namespace, name);
          // A token of ours without its Secret key (the Secret deleted by hand, or a crash
          // between issuing and storing) is still valid and in nobody's keeping: revoke it first.
          for (const stale of await this.deps.accounts.tokens(at, account))
            if (stale.description === label) {
              await this.deps.accounts.revokeToken(at, account, stale.id);
              await this.event(
                live,
                "Normal",
                "TokenRevoked",
                `trading token ${stale.id} on ${venue} revoked: its Secret was lost`,
              );
            }
          token = await this.deps.accounts.issueToken(at, account, label);
          await this.event(
            live,
            "Normal",
            "TokenIssued",
            `trading token ${token.id} issued for account ${account} on ${venue}`,
          );
          logger.info({ venue, tokenId: token.id }, "trading token issued");
        }
        tokens[venue] = token;
        await this.deps.accounts.setKillSwitch(
          at,
          account,
          spec.paused,
          spec.paused ? `StrategyDeployment ${name} paused` : `StrategyDeployment ${name} resumed`,
        );
      } catch (err) {
        throw new Error(`venue ${venue}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /** Positions of every venue's account (figuresOf adds them up by symbol); unread if any venue cannot be read. */
  private async positionsOnEveryVenue(model: StrategyModel): Promise<PositionsRead> {
    const all: AccountPosition[] = [];
    for (const { venue, account } of model.venues) {
      try {
        all.push(...(await this.deps.accounts.positions({ namespace: model.namespace, venue }, account)));
      } catch (err) {
        return { ok: false, why: `venue ${venue}: ${(err as Error).message}` };
      }
    }
    return { ok: true, positions: all };
  }

  private secretOf(namespace: string, name: string): KubeObject | undefined {
    return this.deps.cache.get("Secret", namespace, strategyNames.token(name));
  }

  /**
   * The tokens kept in the Secret, asking the API server when the cache lacks one: the cache
   * can lag behind the Secret this controller has just written, and a token believed lost is
   * revoked and replaced.
   */
  private async storedTokens(model: StrategyModel): Promise<StrategyTokens> {
    const cached = tokensOfSecret(model, this.secretOf(model.namespace, model.name));
    if (hasEveryToken(model, cached)) return cached;
    const secret = await this.deps.client.get({
      apiVersion: "v1",
      kind: "Secret",
      namespace: model.namespace,
      name: strategyNames.token(model.name),
    });
    return tokensOfSecret(model, secret);
  }

  private async applyChildren(
    live: KubeObject,
    model: ReturnType<typeof strategyModel>,
    tokens: StrategyTokens | undefined,
    logger: Logger,
  ): Promise<void> {
    for (const object of strategyChildren(model, tokens)) {
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
    const model = strategyModel({ ...(live as StrategyDeployment), spec }, this.deps.runtimeImage);
    const kept = tokensOfSecret(model, this.secretOf(namespace, live.metadata.name));
    const label = tokenLabel(namespace, live.metadata.name);
    for (const { venue, account } of venuesOf(spec)) {
      const at: VenueRef = { namespace, venue };
      try {
        // The Secret's token, and any other issued for this strategy: with foreground deletion
        // the garbage collector may have removed the Secret already.
        const ids = new Set(kept[venue] !== undefined ? [kept[venue].id] : []);
        for (const t of await this.deps.accounts.tokens(at, account)) if (t.description === label) ids.add(t.id);
        for (const id of ids) {
          await this.deps.accounts.revokeToken(at, account, id);
          logger.info({ venue, tokenId: id }, "strategy deleted: token revoked");
          await this.event(live, "Normal", "TokenRevoked", `trading token ${id} on ${venue} revoked`);
        }
      } catch (err) {
        // Held until every gateway answers: a token left valid would outlive its strategy.
        await this.event(
          live,
          "Warning",
          "TokenRevokeFailed",
          `the trading token on ${venue} cannot be revoked yet (${(err as Error).message}); the finalizer holds the deletion`,
        );
        throw err;
      }
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

/** The venues a StrategyDeployment as stored names (not yet validated): venueRef and spec.venues. */
function venueNamesOf(spec: unknown): string[] {
  const s = spec as { venueRef?: { name?: string }; venues?: { venueRef?: { name?: string } }[] } | undefined;
  return [s?.venueRef?.name, ...(Array.isArray(s?.venues) ? s.venues.map((v) => v?.venueRef?.name) : [])].filter(
    (n): n is string => typeof n === "string",
  );
}

/** The label a strategy's tokens are issued with: how its tokens are found again. */
const tokenLabel = (namespace: string, name: string) => `strategy ${namespace}/${name}`;
