import { MOUNTS, NATS_CREDS_KEY, names, type VenueModel } from "./venue-model.ts";

/**
 * The parts every venue pod shares: the restricted security context (non-root, read-only
 * root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp), the
 * config and Secret volumes mounted as files, and the probes on the ops port.
 */

/** The uid of the images' non-root user: USER 1000:1000 in the Dockerfile (`node` in the official Node image). */
export const RUN_AS_USER = 1000;

export const podSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  fsGroup: RUN_AS_USER,
  seccompProfile: { type: "RuntimeDefault" },
} as const;

export const containerSecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/** Secret files are readable by the pod's user only. */
export const SECRET_MODE = 0o440;

export function volumesOf(model: VenueModel, configMap: string) {
  return [
    { name: "config", configMap: { name: configMap } },
    { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
    { name: "admin-tokens", secret: { secretName: names.adminToken(model.name), defaultMode: SECRET_MODE } },
    ...natsVolumesOf(model),
  ];
}

export function volumeMountsOf(model: VenueModel) {
  return [
    { name: "config", mountPath: MOUNTS.config, readOnly: true },
    { name: "tmp", mountPath: MOUNTS.tmp },
    { name: "admin-tokens", mountPath: MOUNTS.adminTokens, readOnly: true },
    ...natsVolumeMountsOf(model),
  ];
}

/** Files of the NATS TLS volume (POD_SECRET_FILES.natsTls): the CA, the client certificate and its key. */
export const NATS_TLS_FILES = { ca: "ca.crt", cert: "tls.crt", key: "tls.key" } as const;

/**
 * The volumes every venue pod reaches NATS with: the credentials Secret (nats.creds), and
 * the TLS Secrets of spec.nats.tls as one projected volume, so that the CA and the client
 * certificate may come from two Secrets (a CA bundle shared by the namespace, a certificate
 * per venue) or one (cert-manager's, with all three keys), and the services find them under
 * fixed names whatever the CA's key. Nothing without them.
 */
export function natsVolumesOf(model: VenueModel) {
  const tls = model.natsTls;
  const tlsSources = [
    ...(tls?.caSecret !== undefined
      ? [{ secret: { name: tls.caSecret.name, items: [{ key: tls.caSecret.key, path: NATS_TLS_FILES.ca }] } }]
      : []),
    ...(tls?.clientCertSecret !== undefined
      ? [
          {
            secret: {
              name: tls.clientCertSecret,
              items: [
                { key: NATS_TLS_FILES.cert, path: NATS_TLS_FILES.cert },
                { key: NATS_TLS_FILES.key, path: NATS_TLS_FILES.key },
              ],
            },
          },
        ]
      : []),
  ];
  return [
    ...(model.natsCredentialsSecret !== undefined
      ? [
          {
            name: "nats-credentials",
            secret: {
              secretName: model.natsCredentialsSecret,
              defaultMode: SECRET_MODE,
              items: [{ key: NATS_CREDS_KEY, path: NATS_CREDS_KEY }],
            },
          },
        ]
      : []),
    ...(tlsSources.length > 0
      ? [{ name: "nats-tls", projected: { defaultMode: SECRET_MODE, sources: tlsSources } }]
      : []),
  ];
}

/** Where natsVolumesOf's volumes are mounted, read-only. */
export function natsVolumeMountsOf(model: VenueModel) {
  const tls = model.natsTls;
  return [
    ...(model.natsCredentialsSecret !== undefined
      ? [{ name: "nats-credentials", mountPath: MOUNTS.nats, readOnly: true }]
      : []),
    ...(tls?.caSecret !== undefined || tls?.clientCertSecret !== undefined
      ? [{ name: "nats-tls", mountPath: MOUNTS.natsTls, readOnly: true }]
      : []),
  ];
}

/**
 * A pod spec's `imagePullSecrets` for these Secret names, spread into the spec; nothing at
 * all without names, so that a venue without pull Secrets has pods as before (and the
 * applied object holds no empty list the API server would drop).
 */
export function imagePullSecretsOf(secrets: readonly string[]): { imagePullSecrets?: { name: string }[] } {
  return secrets.length > 0 ? { imagePullSecrets: secrets.map((name) => ({ name })) } : {};
}

/** Settings every service reads from its environment: a file path and its pod name, never a secret. */
export function envOf() {
  return [
    { name: "TP_CONFIG_FILE", value: MOUNTS.configFile },
    { name: "TP_INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ];
}

/** Liveness, readiness and startup probes on a service's ops endpoint. */
export function probesOn(opsPort: string) {
  return {
    startupProbe: { httpGet: { path: "/healthz", port: opsPort }, periodSeconds: 2, failureThreshold: 150 },
    livenessProbe: { httpGet: { path: "/healthz", port: opsPort }, periodSeconds: 10, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: "/readyz", port: opsPort }, periodSeconds: 2, failureThreshold: 2 },
  };
}
