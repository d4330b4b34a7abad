import { stringify } from "yaml";
import {
  engineServiceConfig,
  fixGatewayConfig,
  journalConfig,
  marketDataConfig,
  POD_JOURNAL_DATABASE_URL_DIR,
  POD_JOURNAL_PGLITE_DIR,
  POD_PORTS,
  riskGatewayConfig,
} from "./service-configs.ts";
import { hashOf, metadataOf, MOUNTS, names, type Component, type VenueModel } from "./venue-model.ts";

/**
 * ConfigMaps holding each service's generated configuration (the file TP_CONFIG_FILE
 * names). They carry no secret: tokens and NATS credentials are files from Secrets.
 */

export interface ConfigMap {
  readonly apiVersion: "v1";
  readonly kind: "ConfigMap";
  readonly metadata: ReturnType<typeof metadataOf>;
  readonly data: Record<string, string>;
}

function configMap(
  model: VenueModel,
  name: string,
  component: Component,
  config: unknown,
  partition?: number,
): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadataOf(model, name, component, partition),
    data: { "config.yaml": stringify(config, { lineWidth: 0 }) },
  };
}

export function engineConfigMap(model: VenueModel, partition: number): ConfigMap {
  const config = engineServiceConfig(model.venue, partition, model.placement);
  return configMap(model, names.engineConfig(model.name, partition), "engine", config, partition);
}

export function riskConfigMap(model: VenueModel): ConfigMap {
  return configMap(model, names.riskConfig(model.name), "risk", riskGatewayConfig(model.venue, model.placement));
}

export function marketDataConfigMap(model: VenueModel): ConfigMap {
  return configMap(
    model,
    names.marketDataConfig(model.name),
    "market-data",
    marketDataConfig(model.venue, model.placement),
  );
}

/**
 * The FIX gateway's config, or undefined when the spec does not enable it. It reaches the
 * venue's order entry and market data by their Services, and reads each session's token
 * from the file of the session tokens Secret named for the session.
 */
export function fixGatewayConfigMap(model: VenueModel): ConfigMap | undefined {
  const svc = (name: string, port: number) => `${name}.${model.namespace}.svc:${port}`;
  const config = fixGatewayConfig(
    model.venue,
    model.placement,
    {
      orderEntry: svc(names.risk(model.name), POD_PORTS.riskGrpc),
      marketData: svc(names.marketData(model.name), POD_PORTS.marketDataGrpc),
    },
    (_account, sessionId) => `${MOUNTS.fixSessionTokens}/${sessionId}`,
  );
  return config === undefined ? undefined : configMap(model, names.fixGatewayConfig(model.name), "fix-gateway", config);
}

/**
 * The journal's config, or undefined when the spec does not enable it. The database URL is
 * named by file only: the Secret's key, mounted at POD_JOURNAL_DATABASE_URL_DIR; without a
 * database Secret, PGlite embedded on the journal's volume at POD_JOURNAL_PGLITE_DIR.
 */
export function journalConfigMap(model: VenueModel): ConfigMap | undefined {
  const secret = model.venue.spec.journal.databaseUrlSecret;
  const config = journalConfig(
    model.venue,
    model.placement,
    secret !== undefined
      ? { databaseUrlFile: `${POD_JOURNAL_DATABASE_URL_DIR}/${secret.key}` }
      : { pgliteDir: POD_JOURNAL_PGLITE_DIR },
  );
  return config === undefined ? undefined : configMap(model, names.journalConfig(model.name), "journal", config);
}

/** The digest a pod template carries so that a config change rolls its pods. */
export function configHash(configMap: ConfigMap): string {
  return hashOf(configMap.data);
}
