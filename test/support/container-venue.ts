import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { accountsBucket } from "@tradeplane/contracts";
import { ensureLogFormat, provision, venueProvisioningPlan } from "@tradeplane/platform";
import { parseManifests, venueFrom, type TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import {
  engineServiceConfig,
  journalConfig,
  marketDataConfig,
  riskGatewayConfig,
  streamSettings,
  type Placement,
  type ServicePorts,
} from "@tradeplane/operator/service-configs";
import { putAccount, putToken } from "@tradeplane/accounts";
import { Container, freePort, REPO_ROOT, type ContainerState } from "@tradeplane/testkit";

/** The example venue of the docs and of `npm start`. */
export function exampleVenue(): TradingVenue {
  const file = join(REPO_ROOT, "examples", "venue.yaml");
  return venueFrom(parseManifests(readFileSync(file, "utf8"), file), file);
}

/** Where a service's config folder is mounted read-only in its container, as from a ConfigMap. */
export const CONFIG_DIR = "/etc/tradeplane";
export const CONFIG_PATH = `${CONFIG_DIR}/config.json`;

/** A venue's streams, buckets and accounts on a nats-server, with one token per account. */
export async function provisionVenue(
  nc: NatsConnection,
  venue: TradingVenue,
  accounts: readonly string[],
): Promise<Record<string, string>> {
  await provision(nc, venueProvisioningPlan(streamSettings(venue)));
  await ensureLogFormat(nc, venue.metadata.name);
  const kv = await new Kvm(nc).open(accountsBucket(venue.metadata.name));
  const tokens: Record<string, string> = {};
  for (const name of accounts) {
    await putAccount(kv, { name, disabled: false, principals: [name], limits: {}, defaultStpMode: 0 });
    tokens[name] = `token-of-${name}-0123456789abcdef`;
    await putToken(kv, tokens[name], name);
  }
  return tokens;
}

/** Free loopback ports for every service of a one-partition venue (containers share the host's network). */
export async function freeServicePorts(): Promise<ServicePorts> {
  const [
    engineGrpc,
    engineOps,
    riskGrpc,
    riskOps,
    marketDataGrpc,
    marketDataOps,
    marketDataWs,
    fix,
    fixOps,
    journalGrpc,
    journalOps,
    riskPeer,
  ] = await Promise.all(Array.from({ length: 12 }, () => freePort()));
  return {
    engineGrpc: () => engineGrpc!,
    engineOps: () => engineOps!,
    riskGrpc: riskGrpc!,
    riskOps: riskOps!,
    riskPeer: riskPeer!,
    marketDataGrpc: marketDataGrpc!,
    marketDataOps: marketDataOps!,
    marketDataWs: marketDataWs!,
    fix: fix!,
    fixOps: fixOps!,
    journalGrpc: journalGrpc!,
    journalOps: journalOps!,
  };
}

export type Component = "engine" | "risk" | "market-data" | "journal";

/** A service of the venue as a container: where its ports are, how it was configured. */
export interface ServiceContainer {
  readonly component: Component;
  readonly container: Container;
  readonly grpc: string;
  readonly ops: string;
}

/**
 * Runs one service of `venue` from its image, hardened as a restricted pod: its config
 * rendered by the operator's builders into a read-only file, /tmp its only writable place.
 */
export async function runService(
  component: Component,
  image: string,
  venue: TradingVenue,
  placement: Placement,
): Promise<ServiceContainer> {
  const { ports } = placement;
  const config = {
    engine: () => engineServiceConfig(venue, 0, placement),
    risk: () => riskGatewayConfig(venue, placement),
    "market-data": () => marketDataConfig(venue, placement),
    // The journal's database embedded in memory (pgliteDir ""): a read-only root filesystem
    // and a small /tmp leave no room for files, and PostgreSQL is another test's business.
    journal: () =>
      journalConfig(
        { ...venue, spec: { ...venue.spec, journal: { ...venue.spec.journal, enabled: true } } },
        placement,
        { pgliteDir: "" },
      ),
  }[component]();
  const [grpcPort, opsPort] = {
    engine: [ports.engineGrpc(0), ports.engineOps(0)],
    risk: [ports.riskGrpc, ports.riskOps],
    "market-data": [ports.marketDataGrpc, ports.marketDataOps],
    journal: [ports.journalGrpc, ports.journalOps],
  }[component];
  // A folder mounted on the image's /etc/tradeplane, readable by its user (uid 1000), as a
  // ConfigMap volume is.
  const dir = mkdtempSync(join(tmpdir(), "tp-image-config-"));
  writeFileSync(join(dir, "config.json"), JSON.stringify(config), { mode: 0o644 });
  chmodSync(dir, 0o755);
  const container = await Container.run({
    image,
    env: { TP_CONFIG_FILE: CONFIG_PATH, TP_INSTANCE_ID: `${component}-0` },
    mounts: [{ source: dir, target: CONFIG_DIR }],
    tmpfs: ["/tmp"],
  });
  return { component, container, grpc: `127.0.0.1:${grpcPort}`, ops: `http://127.0.0.1:${opsPort}` };
}

/** Any container with an ops server: a venue service, the FIX gateway, a strategy runtime. */
export interface OpsContainer {
  readonly component: string;
  readonly container: Container;
  /** Base URL of its ops server (/readyz, /metrics). */
  readonly ops: string;
}

/**
 * Waits until `/readyz` answers 200, or the container exits (then its logs say why).
 * Bounded: a service that is not ready in `timeoutMs` fails the test with its logs.
 */
export async function waitReady(service: OpsContainer, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${service.ops}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    const state = await service.container.state();
    if (state.status !== "running" || Date.now() > deadline)
      throw new Error(
        `${service.component} is not ready (container ${state.status}, exit ${state.exitCode}):\n` +
          (await service.container.logs()),
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stops a service as the kubelet would and returns its final state and its logs. */
export async function stopService(
  service: OpsContainer,
  graceSeconds: number,
): Promise<{ state: ContainerState; logs: string }> {
  const state = await service.container.stop(graceSeconds);
  return { state, logs: await service.container.logs() };
}
