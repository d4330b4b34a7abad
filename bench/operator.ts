// The operator reconciling N venues from scratch against a real kube-apiserver, etcd and
// kube-controller-manager and a real nats-server (the integration tests' harness): time
// until every venue is Ready, the operator's memory, its API writes (from the audit log,
// less Lease renewals), and its writes per resync once nothing changes (goal: 0).
// Memory is read from the operator's /metrics before any venue, when every venue is Ready and at the end:
// resident set, V8 heap used and reserved, and external memory (Buffers, ArrayBuffers).
// With --heap-snapshot 1 and the operator started with NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2
// (e.g. plus --diagnostic-dir=DIR), the bench signals it at the end for a snapshot; the heap
// used just after it is the live heap (a snapshot runs a full collection first).
//   npm run -s bench:operator -- [--venues 100] [--resync-seconds 20] [--heap-snapshot 0|1]
// Last line: {"venues":N,"secondsToReady":T,"apiWrites":W,"writesPerVenue":X,"operatorIdleRssMB":I,
//   "operatorIdleHeapUsedMB":IH,"operatorRssMB":M,
//   "operatorHeapUsedMB":H,"operatorHeapTotalMB":HT,"operatorExternalMB":E,"resyncs":R,"writesPerResync":Z,
//   "operatorRssEndMB":M2,"operatorHeapUsedEndMB":H2[,"operatorLiveHeapMB":L]}
import { readFileSync } from "node:fs";
import { KubeCluster, KubeletPlayer, NatsServer, OperatorProcess } from "@tradeplane/testkit";
import { numericFlags } from "./support/venue.ts";

const flags = numericFlags({ venues: 100, resyncSeconds: 20, heapSnapshot: 0 });
// Without the flag, SIGUSR2 would end the operator (Node's default action).
if (flags.heapSnapshot === 1 && !(process.env.NODE_OPTIONS ?? "").includes("--heapsnapshot-signal=SIGUSR2"))
  throw new Error("--heap-snapshot 1 needs NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 (the operator inherits it)");
const NS = "bench";
const USER = "tradeplane-operator";
const ROOT = new URL("../", import.meta.url);

const [kube, nats] = await Promise.all([KubeCluster.start(), NatsServer.start()]);
const kubelet = new KubeletPlayer(kube, NS);
let operator: OperatorProcess | undefined;
try {
  await kube.kubectl(["apply", "-f", new URL("manifests/crds/", ROOT).pathname]);
  await kube.kubectl(["create", "namespace", NS]);
  await kube.kubectl(["create", "namespace", "tradeplane-system"]);
  const rbac = readFileSync(new URL("manifests/rbac/operator.yaml", ROOT), "utf8").replaceAll(
    "- kind: ServiceAccount\n    name: tradeplane-operator\n    namespace: tradeplane-system",
    `- kind: User\n    name: ${USER}\n    apiGroup: rbac.authorization.k8s.io`,
  );
  await kube.kubectl(["apply", "-f", "-"], rbac);
  kubelet.start(1_000);
  operator = new OperatorProcess(
    [
      ["--kubeconfig", await kube.kubeconfigFor(USER)],
      ["--nats-url", nats.url],
      ["--namespace", NS],
      ["--lease-namespace", "tradeplane-system"],
      ["--resync-seconds", String(flags.resyncSeconds)],
      ["--log-level", "warn"],
    ].flat(),
  );
  await operator.start();
  const memory = async (op: OperatorProcess) => {
    const mb = async (name: string) => Math.round((await op.metric(name)) / 2 ** 20);
    return {
      rss: await mb("process_resident_memory_bytes"),
      heapUsed: await mb("nodejs_heap_size_used_bytes"),
      heapTotal: await mb("nodejs_heap_size_total_bytes"),
      external: await mb("nodejs_external_memory_bytes"),
    };
  };
  // Before any venue: what loading the operator's code and syncing empty caches costs.
  await new Promise((r) => setTimeout(r, 2_000));
  const idle = await memory(operator);

  const writes = async () =>
    (await kube.auditEvents()).filter((e) => e.user.username === USER && e.objectRef?.resource !== "leases").length;
  const venues = Array.from(
    { length: flags.venues },
    (_, n) => `apiVersion: tradeplane.io/v1alpha1
kind: TradingVenue
metadata: { name: v${n}, namespace: ${NS} }
spec:
  instruments: [{ symbol: RELIANCE, referencePrice: 130000 }]
  streams: { storage: memory }
  deletionPolicy: Delete
`,
  ).join("---\n");
  const t0 = performance.now();
  await kube.kubectl(["apply", "-f", "-"], venues);
  for (;;) {
    const list = await kube.request<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(
      "GET",
      `/apis/tradeplane.io/v1alpha1/namespaces/${NS}/tradingvenues`,
    );
    const ready = list.body.items.filter((v) =>
      v.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    if (ready.length === flags.venues) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  const secondsToReady = (performance.now() - t0) / 1000;
  const apiWrites = await writes();
  const atReady = await memory(operator);

  // Steady state: let the kubelet stop touching pods, then count writes over whole resyncs.
  kubelet.stop();
  await new Promise((r) => setTimeout(r, 5_000));
  const reconcilesBefore = await operator.metric("tp_operator_reconciles_total", { kind: "TradingVenue" });
  const before = await writes();
  const resyncs = 2;
  await new Promise((r) => setTimeout(r, resyncs * flags.resyncSeconds * 1100));
  const reconciled =
    (await operator.metric("tp_operator_reconciles_total", { kind: "TradingVenue" })) - reconcilesBefore;
  const writesPerResync = ((await writes()) - before) / resyncs;
  if (reconciled < flags.venues) throw new Error(`only ${reconciled} reconciles during ${resyncs} resyncs`);
  const atEnd = await memory(operator);
  let operatorLiveHeapMB: number | undefined;
  if (flags.heapSnapshot === 1) {
    process.kill(operator.pid!, "SIGUSR2");
    // The snapshot blocks the operator's event loop: /metrics answers once it is written.
    await new Promise((r) => setTimeout(r, 1_000));
    operatorLiveHeapMB = (await memory(operator)).heapUsed;
  }
  console.log(
    JSON.stringify({
      venues: flags.venues,
      secondsToReady: Math.round(secondsToReady * 10) / 10,
      apiWrites,
      writesPerVenue: Math.round((apiWrites / flags.venues) * 10) / 10,
      operatorIdleRssMB: idle.rss,
      operatorIdleHeapUsedMB: idle.heapUsed,
      operatorRssMB: atReady.rss,
      operatorHeapUsedMB: atReady.heapUsed,
      operatorHeapTotalMB: atReady.heapTotal,
      operatorExternalMB: atReady.external,
      resyncs,
      reconcilesInSteadyState: reconciled,
      writesPerResync,
      operatorRssEndMB: atEnd.rss,
      operatorHeapUsedEndMB: atEnd.heapUsed,
      ...(operatorLiveHeapMB !== undefined ? { operatorLiveHeapMB } : {}),
    }),
  );
} finally {
  kubelet.stop();
  await operator?.stop("SIGTERM");
  await nats.stop();
  await kube.dispose();
}
