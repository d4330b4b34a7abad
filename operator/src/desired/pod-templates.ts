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
  ];
}

export function volumeMountsOf(model: VenueModel) {
  return [
    { name: "config", mountPath: MOUNTS.config, readOnly: true },
    { name: "tmp", mountPath: MOUNTS.tmp },
    { name: "admin-tokens", mountPath: MOUNTS.adminTokens, readOnly: true },
    ...(model.natsCredentialsSecret !== undefined
      ? [{ name: "nats-credentials", mountPath: MOUNTS.nats, readOnly: true }]
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
