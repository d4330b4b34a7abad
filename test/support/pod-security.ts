/**
 * The "restricted" Pod Security Standard (Kubernetes 1.25+, baseline included), as pure
 * checks on a pod spec: each returns what a pod breaks, in the words of the standard. The
 * install test also has the real API server's PodSecurity admission enforce it; this one
 * runs on every rendered values file without a cluster.
 */

interface SecurityContext {
  readonly privileged?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
  readonly seccompProfile?: { readonly type?: string };
  readonly procMount?: string;
  readonly seLinuxOptions?: { readonly type?: string; readonly user?: string; readonly role?: string };
  readonly appArmorProfile?: { readonly type?: string };
  readonly windowsOptions?: { readonly hostProcess?: boolean };
  readonly readOnlyRootFilesystem?: boolean;
  readonly sysctls?: readonly { readonly name: string }[];
}

interface Container {
  readonly name: string;
  readonly securityContext?: SecurityContext;
  readonly ports?: readonly { readonly hostPort?: number }[];
}

export interface PodSpec {
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly hostIPC?: boolean;
  readonly securityContext?: SecurityContext;
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly volumes?: readonly Record<string, unknown>[];
}

const RESTRICTED_VOLUME_TYPES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);

/** Every way `pod` breaks the restricted standard; empty when it meets it. */
export function restrictedViolations(pod: PodSpec): string[] {
  const out: string[] = [];
  const podCtx = pod.securityContext ?? {};
  if (pod.hostNetwork === true) out.push("host namespaces: hostNetwork=true");
  if (pod.hostPID === true) out.push("host namespaces: hostPID=true");
  if (pod.hostIPC === true) out.push("host namespaces: hostIPC=true");
  for (const sysctl of podCtx.sysctls ?? [])
    if (!SAFE_SYSCTLS.has(sysctl.name)) out.push(`sysctls: ${sysctl.name} is not a safe sysctl`);
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((k) => k !== "name");
    if (type === "hostPath") out.push(`hostPath volumes: ${String(volume.name)}`);
    else if (type !== undefined && !RESTRICTED_VOLUME_TYPES.has(type))
      out.push(`volume types: ${String(volume.name)} is a ${type} volume`);
  }
  if (podCtx.runAsUser === 0) out.push("runAsUser: the pod runs as uid 0");
  out.push(...seLinuxAndProfiles("pod", podCtx));
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const ctx = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (ctx.windowsOptions?.hostProcess === true) out.push(`hostProcess: ${where}`);
    if (ctx.privileged === true) out.push(`privileged: ${where}`);
    if (ctx.allowPrivilegeEscalation !== false)
      out.push(`allowPrivilegeEscalation != false: ${where} must set securityContext.allowPrivilegeEscalation=false`);
    if (!(ctx.runAsNonRoot ?? podCtx.runAsNonRoot ?? false))
      out.push(`runAsNonRoot != true: ${where} (or the pod) must set runAsNonRoot=true`);
    if (ctx.runAsUser === 0) out.push(`runAsUser: ${where} runs as uid 0`);
    const seccomp = ctx.seccompProfile?.type ?? podCtx.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
      out.push(`seccompProfile: ${where} (or the pod) must set type RuntimeDefault or Localhost`);
    if (!(ctx.capabilities?.drop ?? []).includes("ALL")) out.push(`unrestricted capabilities: ${where} must drop ALL`);
    for (const cap of ctx.capabilities?.add ?? [])
      if (cap !== "NET_BIND_SERVICE") out.push(`unrestricted capabilities: ${where} adds ${cap}`);
    for (const port of c.ports ?? [])
      if ((port.hostPort ?? 0) !== 0) out.push(`hostPort: ${where} uses host port ${port.hostPort}`);
    if ((ctx.procMount ?? "Default") !== "Default") out.push(`procMount: ${where}`);
    out.push(...seLinuxAndProfiles(where, ctx));
  }
  return out;
}

function seLinuxAndProfiles(where: string, ctx: SecurityContext): string[] {
  const out: string[] = [];
  if (ctx.seccompProfile?.type === "Unconfined") out.push(`seccompProfile: ${where} is Unconfined`);
  if (ctx.appArmorProfile?.type === "Unconfined") out.push(`appArmorProfile: ${where} is Unconfined`);
  const se = ctx.seLinuxOptions;
  if (se !== undefined) {
    if (!SELINUX_TYPES.has(se.type ?? "")) out.push(`seLinuxOptions: ${where} type ${se.type}`);
    if ((se.user ?? "") !== "" || (se.role ?? "") !== "") out.push(`seLinuxOptions: ${where} sets user or role`);
  }
  return out;
}

/** The pod spec of a Pod or of any workload's pod template; undefined for other kinds. */
export function podSpecOf(object: { kind: string; spec?: unknown }): PodSpec | undefined {
  const spec = object.spec as {
    template?: { spec?: PodSpec };
    jobTemplate?: { spec?: { template?: { spec?: PodSpec } } };
  };
  if (object.kind === "Pod") return object.spec as PodSpec;
  if (["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(object.kind)) return spec.template?.spec;
  if (object.kind === "CronJob") return spec.jobTemplate?.spec?.template?.spec;
  return undefined;
}
