// The Kubernetes extensions of OpenAPI live in @tradeplane/strategy-api, which the strategy
// runtime imports without the operator; the CRDs are still generated here (crd.ts).
export * from "@tradeplane/strategy-api/kube-schema";
