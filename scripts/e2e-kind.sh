#!/usr/bin/env bash
# End to end on a real cluster, for machines with Docker and kind. Our CI machines have
# neither: there the images run under podman and the chart and operator against the
# testkit's kube-apiserver (docs/helm.md, "End to end on kind", says what each proves).
#
#   scripts/e2e-kind.sh [--keep] [--builder docker|podman] [--nats manifest|official]
#
#  1. builds the images of the root Dockerfile: with docker (`docker build --target`), or
#     with podman through scripts/images (the images the tests run), saved and loaded as archives;
#  2. creates the kind cluster from manifests/kind/cluster.yaml (static CPU manager), unless it exists;
#  3. loads the images into its nodes;
#  4. installs NATS with JetStream: manifests/kind/nats.yaml (one server, the default), or
#     the official NATS chart with three servers (--nats official; needs the network);
#  5. installs the chart (helm upgrade --install) with its helm test enabled;
#  6. applies examples/venue.yaml in namespace markets and waits for Ready;
#  7. creates the test account and its token through the gateway (the host's CLI, over a
#     port-forward) and runs `helm test`: the CLI's image sends an order and checks its report.
# Every step is idempotent: a second run (with --keep) reuses the cluster and changes only
# what changed. Without --keep the cluster is deleted at the end, whatever happened.
# Environment: KIND_CLUSTER (default tradeplane-e2e), KIND_CONFIG (default manifests/kind/cluster.yaml),
# TP_E2E_TAG (image tag, default e2e).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { echo "e2e-kind: $*" >&2; }
fail() {
  echo "e2e-kind: ERROR: $*" >&2
  exit 1
}

cluster="${KIND_CLUSTER:-tradeplane-e2e}"
kind_config="${KIND_CONFIG:-manifests/kind/cluster.yaml}"
tag="${TP_E2E_TAG:-e2e}"
venue_ns=markets
release_ns=tradeplane-system
components=(engine risk market-data fix-gateway journal strategy-runtime operator cli)
keep=no
builder=""
nats_source=manifest
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=yes ;;
    --builder)
      [ $# -ge 2 ] || fail "--builder needs a value (see --help)"
      builder="$2"
      shift
      ;;
    --nats)
      [ $# -ge 2 ] || fail "--nats needs a value (see --help)"
      nats_source="$2"
      shift
      ;;
    -h | --help)
      sed -n '2,21p' "$0"
      exit 0
      ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
case "$nats_source" in manifest | official) ;; *) fail "--nats takes manifest or official, not '$nats_source'" ;; esac

# --- what the machine must have -----------------------------------------------------------
export PATH="$root/tools/bin:$PATH"
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed: $2"; }
need kind "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
need helm "run 'npm run setup' (puts helm into tools/bin) or install helm 3.8+"
need kubectl "run 'npm run setup' (puts kubectl into tools/bin) or install kubectl"
[ -x node_modules/.bin/tradeplane ] || fail "the CLI is not installed: run 'npm ci' in $root"
[ -f "$kind_config" ] || fail "no kind config at $kind_config"
if [ -z "$builder" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then builder=docker; else builder=podman; fi
fi
case "$builder" in
  docker)
    need docker "install Docker (kind needs it too)"
    docker info >/dev/null 2>&1 || fail "docker is installed but its daemon does not answer ('docker info' fails)"
    ;;
  podman) need podman "install Docker, or podman to build the images (kind still needs Docker or KIND_EXPERIMENTAL_PROVIDER=podman)" ;;
  *) fail "--builder takes docker or podman, not '$builder'" ;;
esac
ctx="kind-$cluster"
k() { kubectl --context "$ctx" "$@"; }

forward=""
cleanup() {
  [ -z "$forward" ] || kill "$forward" 2>/dev/null || true
  if [ "$keep" = yes ]; then
    say "cluster $cluster kept (kind delete cluster --name $cluster removes it)"
  else
    say "deleting cluster $cluster (--keep keeps it)"
    kind delete cluster --name "$cluster" || true
  fi
}

# --- 1. images ----------------------------------------------------------------------------
# Named as the chart names them with image.registry empty: tradeplane/COMPONENT:TAG, which
# the nodes' containerd reads as docker.io/tradeplane/COMPONENT:TAG.
archives="$(mktemp -d)"
trap 'rm -rf "$archives"' EXIT
say "building ${components[*]} with $builder (tag $tag)"
if [ "$builder" = docker ]; then
  for c in "${components[@]}"; do docker build --target "$c" -t "tradeplane/$c:$tag" .; done
else
  TP_IMAGE_TAG="$tag" bash scripts/images "${components[@]}" >/dev/null
  for c in "${components[@]}"; do
    podman tag "localhost/tradeplane/$c:$tag" "docker.io/tradeplane/$c:$tag"
    podman save --format docker-archive -o "$archives/$c.tar" "docker.io/tradeplane/$c:$tag"
  done
fi

# --- 2. cluster ---------------------------------------------------------------------------
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  say "cluster $cluster exists: reusing it"
else
  say "creating cluster $cluster from $kind_config"
  kind create cluster --name "$cluster" --config "$kind_config" --wait 120s
fi
trap 'rm -rf "$archives"; cleanup' EXIT

# --- 3. images into the nodes -------------------------------------------------------------
for c in "${components[@]}"; do
  if [ "$builder" = docker ]; then
    kind load docker-image --name "$cluster" "tradeplane/$c:$tag"
  else
    kind load image-archive --name "$cluster" "$archives/$c.tar"
  fi
done

# --- 4. NATS with JetStream ---------------------------------------------------------------
if [ "$nats_source" = manifest ] && [ -f manifests/kind/nats.yaml ]; then
  say "NATS: manifests/kind/nats.yaml (one server)"
  k apply -f manifests/kind/nats.yaml
  k -n nats rollout status deployment/nats --timeout=180s
else
  say "NATS: the official chart, JetStream on, three servers"
  helm repo add nats https://nats-io.github.io/k8s/helm/charts/ --force-update >/dev/null
  helm --kube-context "$ctx" upgrade --install nats nats/nats --namespace nats --create-namespace \
    --set config.jetstream.enabled=true --set config.cluster.enabled=true --set config.cluster.replicas=3 \
    --wait --timeout 5m
fi

# --- 5. the chart -------------------------------------------------------------------------
say "installing charts/tradeplane into $release_ns"
helm --kube-context "$ctx" upgrade --install tradeplane charts/tradeplane \
  --namespace "$release_ns" --create-namespace \
  --set image.registry= --set image.tag="$tag" --set image.pullPolicy=Never \
  --set "nats.urls={nats://nats.nats.svc:4222}" \
  --set tests.enabled=true --set tests.venue.namespace="$venue_ns" \
  --wait --timeout 5m

# --- 6. the example venue -----------------------------------------------------------------
k create namespace "$venue_ns" --dry-run=client -o yaml | k apply -f -
k -n "$venue_ns" apply -f examples/venue.yaml
# Engines go to the nodes the kind config labels for them (none with another KIND_CONFIG).
engine_label=""
if [ -n "$(k get nodes -l node-role.tradeplane.io/engine=true -o name)" ]; then
  engine_label="node-role.tradeplane.io/engine=true"
fi
patch='{"spec":{"images":{"pullPolicy":"Never"}}}'
if [ -n "$engine_label" ]; then
  patch="{\"spec\":{\"images\":{\"pullPolicy\":\"Never\"},\"engine\":{\"placement\":{\"nodeSelector\":{\"${engine_label%%=*}\":\"${engine_label#*=}\"}}}}}"
fi
k -n "$venue_ns" patch tradingvenue demo --type=merge -p "$patch"
say "waiting for the venue to be Ready"
k -n "$venue_ns" wait tradingvenue/demo --for=condition=Ready --timeout=5m
k -n "$venue_ns" get tradingvenue demo -o wide

# --- 7. an account, its token, and helm test ----------------------------------------------
port=50061
k -n "$venue_ns" port-forward service/demo-risk "$port:50061" >/dev/null &
forward=$!
for _ in $(seq 1 30); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$forward" 2>/dev/null || fail "kubectl port-forward to demo-risk exited"
  sleep 1
done
admin_file="$archives/admin-token"
(
  umask 077
  k -n "$venue_ns" get secret demo-admin-tokens -o jsonpath='{.data.venue-operator}' | base64 -d >"$admin_file"
)
cli() { node_modules/.bin/tradeplane --endpoint "127.0.0.1:$port" --admin-token-file "$admin_file" "$@"; }
if ! out="$(cli accounts create helm-test 2>&1)"; then
  grep -qi "already" <<<"$out" || fail "accounts create helm-test: $out"
  say "account helm-test exists: reusing it"
fi
# A fresh token each run (the venue keeps only its hash), from a private file into the
# Secret: never on a command line.
token_file="$archives/token"
(
  umask 077
  cli tokens issue helm-test | tail -1 | tr -d '\n' >"$token_file"
)
[ -s "$token_file" ] || fail "tokens issue helm-test printed no token"
k -n "$venue_ns" create secret generic tradeplane-helm-test-token --from-file=token="$token_file" \
  --dry-run=client -o yaml | k apply -f -

say "helm test: the CLI's image sends an order"
helm --kube-context "$ctx" test tradeplane --namespace "$release_ns" --logs
k -n "$venue_ns" get tradingvenue demo -o jsonpath='{range .status.conditions[*]}{.type}={.status} ({.reason}){"\n"}{end}'
say "ok"
