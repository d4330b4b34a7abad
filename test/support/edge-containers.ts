import { chmodSync, chownSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TradingVenue } from "@tradeplane/operator/api/v1alpha1";
import { fixGatewayConfig, type Placement } from "@tradeplane/operator/service-configs";
import { Container } from "@tradeplane/testkit";
import { CONFIG_DIR, CONFIG_PATH, type OpsContainer } from "./container-venue.ts";

/**
 * The venue's edge as containers: the FIX gateway and a strategy runtime, each hardened as
 * a restricted pod, its config in a read-only folder as from a ConfigMap and its secrets in
 * another as from a Secret volume. Secrets are files only: never in the environment, the
 * command line or the config.
 */

/** Where the images' users find their secrets, as the operator mounts Secret volumes. */
export const SECRETS_DIR = "/var/run/secrets/tradeplane";

/** The images' user: a Secret volume's files belong to it (fsGroup) and only it reads them. */
const IMAGE_UID = 1000;

/** A folder of files readable by everyone, as a ConfigMap volume is. */
function configFolder(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), "tp-image-config-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o644 });
  chmodSync(dir, 0o755);
  return dir;
}

/** A folder of files only the image's user can read, as a Secret volume with defaultMode 0400 and fsGroup. */
function secretFolder(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), "tp-image-secret-"));
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), `${text}\n`, { mode: 0o400 });
    chownSync(join(dir, name), IMAGE_UID, IMAGE_UID);
  }
  chownSync(dir, IMAGE_UID, IMAGE_UID);
  chmodSync(dir, 0o500);
  return dir;
}

export interface FixSession {
  readonly id: string;
  /** The client's SenderCompID. */
  readonly compId: string;
  readonly account: string;
  readonly token: string;
  /** The Logon's Password (554). */
  readonly password: string;
}

export interface FixGatewayContainer extends OpsContainer {
  readonly fixPort: number;
  /** The gateway's CompID: the clients' TargetCompID. */
  readonly senderCompId: string;
}

/**
 * Runs the FIX gateway's image in front of `venue`'s risk gateway and market data, its
 * config rendered by the operator's builder with `sessions` added to the venue's spec.
 */
export async function runFixGateway(
  image: string,
  venue: TradingVenue,
  placement: Placement,
  endpoints: { readonly orderEntry: string; readonly marketData: string },
  sessions: readonly FixSession[],
): Promise<FixGatewayContainer> {
  const senderCompId = "TRADEPLANE";
  const withFix: TradingVenue = {
    ...venue,
    spec: {
      ...venue.spec,
      fix: {
        enabled: true,
        senderCompId,
        sessions: sessions.map((s) => ({
          id: s.id,
          targetCompId: s.compId,
          account: s.account,
          cancelOnDisconnect: false,
          maxMessagesPerSecond: 0,
        })),
        service: { type: "ClusterIP" },
      },
    },
  };
  const secretsDir = `${SECRETS_DIR}/fix`;
  const rendered = fixGatewayConfig(withFix, placement, endpoints, (account) => `${secretsDir}/${account}.token`)!;
  const config = {
    ...rendered,
    sessions: rendered.sessions.map((s) => ({ ...s, passwordFile: `${secretsDir}/${s.id}.password` })),
  };
  const secrets: Record<string, string> = {};
  for (const s of sessions) {
    secrets[`${s.account}.token`] = s.token;
    secrets[`${s.id}.password`] = s.password;
  }
  const container = await Container.run({
    image,
    env: { TP_CONFIG_FILE: CONFIG_PATH, TP_INSTANCE_ID: "fix-gateway-0" },
    mounts: [
      { source: configFolder({ "config.json": JSON.stringify(config) }), target: CONFIG_DIR },
      { source: secretFolder(secrets), target: secretsDir },
    ],
    tmpfs: ["/tmp"],
  });
  return {
    component: "fix-gateway",
    container,
    ops: `http://127.0.0.1:${placement.ports.fixOps}`,
    fixPort: placement.ports.fix,
    senderCompId,
  };
}

/**
 * Runs the strategy runtime's image for one StrategyDeployment: the manifest and the
 * runtime's config mounted read-only, the account's token in its own Secret folder.
 */
export async function runStrategyRuntime(
  image: string,
  deployment: string,
  token: string,
  endpoints: { readonly orderEntry: string; readonly marketData: string },
  opsPort: number,
): Promise<OpsContainer> {
  const tokenDir = `${SECRETS_DIR}/strategy`;
  const config = {
    specFile: `${CONFIG_DIR}/strategy.yaml`,
    tokenFile: `${tokenDir}/token`,
    orderEntry: endpoints.orderEntry,
    marketData: endpoints.marketData,
    opsHost: "127.0.0.1",
    opsPort,
  };
  const container = await Container.run({
    image,
    env: { TP_CONFIG_FILE: CONFIG_PATH, TP_INSTANCE_ID: "strategy-0" },
    mounts: [
      {
        source: configFolder({ "config.json": JSON.stringify(config), "strategy.yaml": deployment }),
        target: CONFIG_DIR,
      },
      { source: secretFolder({ token }), target: tokenDir },
    ],
    tmpfs: ["/tmp"],
  });
  return { component: "strategy-runtime", container, ops: `http://127.0.0.1:${opsPort}` };
}
