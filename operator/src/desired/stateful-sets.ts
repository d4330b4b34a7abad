import { POD_PORTS } from "./service-configs.ts";
import { configHash, engineConfigMap } from "./config-maps.ts";
import {
  containerSecurityContext,
  envOf,
  imagePullSecretsOf,
  podSecurityContext,
  probesOn,
  volumeMountsOf,
  volumesOf,
} from "./pod-templates.ts";
import { ANNOTATIONS, labelsOf, metadataOf, names, selectorLabels, type VenueModel } from "./venue-model.ts";

/**
 * One StatefulSet per engine partition: the primary and, with `engine.standby`, a hot
 * standby. Guaranteed QoS with whole CPUs (requests equal limits) so that a kubelet with
 * the static CPU manager policy gives the engine exclusive cores. `OnDelete`: the
 * controller restarts engine pods itself, standby first and inside maintenance windows,
 * because a restart of the primary is a failover.
 */
export function engineStatefulSet(model: VenueModel, partition: number) {
  const { engine } = model.venue.spec;
  const placement = model.enginePlacement;
  const name = names.engine(model.name, partition);
  const hugepages =
    placement.hugepages !== undefined
      ? { [`hugepages-${placement.hugepages.size}`]: placement.hugepages.quantity }
      : {};
  const resources = { cpu: String(engine.cpus), memory: engine.memory, ...hugepages };
  return {
    apiVersion: "apps/v1" as const,
    kind: "StatefulSet" as const,
    metadata: metadataOf(model, name, "engine", partition),
    spec: {
      serviceName: name,
      replicas: model.engineReplicas,
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "OnDelete" },
      selector: { matchLabels: selectorLabels(model, "engine", partition) },
      template: {
        metadata: {
          labels: labelsOf(model, "engine", partition),
          annotations: { [ANNOTATIONS.configHash]: configHash(engineConfigMap(model, partition)) },
        },
        spec: {
          serviceAccountName: names.serviceAccount(model.name, "engine"),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext,
          ...imagePullSecretsOf(model.pullSecrets),
          // A standby takes over through a lease; give the primary time to hand over cleanly.
          terminationGracePeriodSeconds: 30,
          ...(placement.nodeSelector !== undefined ? { nodeSelector: placement.nodeSelector } : {}),
          ...(placement.tolerations !== undefined ? { tolerations: placement.tolerations } : {}),
          ...(placement.affinity !== undefined ? { affinity: placement.affinity } : {}),
          ...(placement.topologySpreadConstraints !== undefined
            ? { topologySpreadConstraints: placement.topologySpreadConstraints }
            : {}),
          ...(placement.priorityClassName !== undefined ? { priorityClassName: placement.priorityClassName } : {}),
          ...(placement.runtimeClassName !== undefined ? { runtimeClassName: placement.runtimeClassName } : {}),
          containers: [
            {
              name: "engine",
              image: model.images.engine,
              imagePullPolicy: model.pullPolicy,
              env: envOf(),
              ports: [
                { name: "grpc", containerPort: POD_PORTS.engineGrpc(partition), protocol: "TCP" },
                { name: "ops", containerPort: POD_PORTS.engineOps(partition), protocol: "TCP" },
              ],
              resources: { requests: resources, limits: resources },
              securityContext: containerSecurityContext,
              volumeMounts: [
                ...volumeMountsOf(model),
                ...(placement.hugepages !== undefined ? [{ name: "hugepages", mountPath: "/hugepages" }] : []),
              ],
              ...probesOn("ops"),
            },
          ],
          volumes: [
            ...volumesOf(model, names.engineConfig(model.name, partition)),
            ...(placement.hugepages !== undefined
              ? [{ name: "hugepages", emptyDir: { medium: `HugePages-${placement.hugepages.size}` } }]
              : []),
          ],
        },
      },
    },
  };
}

export type EngineStatefulSet = ReturnType<typeof engineStatefulSet>;
