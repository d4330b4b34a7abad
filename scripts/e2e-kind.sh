#!/usr/bin/env bash
# End to end on a real cluster, for machines with Docker (CI here has none: the operator's
# tests use the testkit's API server instead, docs/operator.md says what each proves):
# build the images, create a kind cluster with the static CPU manager, install NATS and the
# chart, create the example venue, wait for Ready, then send an order through `helm test`.
#   scripts/e2e-kind.sh [--keep]     (--keep leaves the cluster running)
set -euo pipefail
cd "$(dirname "$0")/.."
cluster=tradeplane-e2e
tag=e2e
keep=${1:-}

fail() { echo "e2e-kind: $*" >&2; exit 1; }
for tool in docker kind helm kubectl; do
  command -v "$tool" >/dev/null || [ -x "tools/bin/$tool" ] || fail "needs $tool on PATH (helm and kubectl: npm run setup)"
done
export PATH="$PWD/tools/bin:$PATH"

echo "e2e-kind: building images"
for target in engine risk market-data operator cli; do
  docker build --target "$target" -t "tradeplane/$target:$tag" .
done

kind get clusters | grep -qx "$cluster" || kind create cluster --name "$cluster" --config manifests/kind/cluster.yaml
[ "$keep" = "--keep" ] || trap 'kind delete cluster --name "$cluster"' EXIT
for target in engine risk market-data operator cli; do kind load docker-image --name "$cluster" "tradeplane/$target:$tag"; done
ctx="kind-$cluster"

kubectl --context "$ctx" apply -f manifests/kind/nats.yaml
kubectl --context "$ctx" -n nats rollout status deployment/nats --timeout=180s

helm --kube-context "$ctx" upgrade --install tradeplane charts/tradeplane \
  --namespace tradeplane-system --create-namespace \
  --set image.registry= --set image.tag="$tag" --set image.pullPolicy=Never \
  --set "nats.urls={nats://nats.nats.svc:4222}" --set tests.enabled=true --set tests.venue.namespace=markets \
  --wait --timeout 5m

kubectl --context "$ctx" create namespace markets --dry-run=client -o yaml | kubectl --context "$ctx" apply -f -
sed 's/^metadata:$/metadata:\n  namespace: markets/' examples/venue.yaml |
  kubectl --context "$ctx" apply -f -
kubectl --context "$ctx" patch tradingvenue demo -n markets --type=merge \
  -p '{"spec":{"images":{"pullPolicy":"Never"},"engine":{"placement":{"nodeSelector":{"tradeplane.io/pool":"engines"}}}}}'
kubectl --context "$ctx" wait tradingvenue/demo -n markets --for=condition=Ready --timeout=5m
kubectl --context "$ctx" get tradingvenue demo -n markets -o wide

# An account and an order-entry token for the helm test, through the gateway as the venue's operator.
admin=$(kubectl --context "$ctx" get secret demo-admin-tokens -n markets -o jsonpath='{.data.venue-operator}' | base64 -d)
kubectl --context "$ctx" -n markets port-forward service/demo-risk 50061:50061 >/dev/null &
forward=$!
trap 'kill $forward 2>/dev/null || true; [ "$keep" = "--keep" ] || kind delete cluster --name "$cluster"' EXIT
sleep 2
admin_file=$(mktemp) && printf '%s' "$admin" > "$admin_file" && chmod 600 "$admin_file"
npx tradeplane --endpoint 127.0.0.1:50061 --admin-token-file "$admin_file" accounts create helm-test
token=$(npx tradeplane --endpoint 127.0.0.1:50061 --admin-token-file "$admin_file" tokens issue helm-test | tail -1)
rm -f "$admin_file"
kubectl --context "$ctx" -n markets create secret generic tradeplane-helm-test-token --from-literal=token="$token" \
  --dry-run=client -o yaml | kubectl --context "$ctx" apply -f -

helm --kube-context "$ctx" test tradeplane --namespace tradeplane-system --logs
kubectl --context "$ctx" get tradingvenue demo -n markets \
  -o jsonpath='{range .status.conditions[*]}{.type}={.status} ({.reason}){"\n"}{end}'
echo "e2e-kind: ok"
