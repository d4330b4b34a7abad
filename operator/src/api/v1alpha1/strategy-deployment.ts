// The StrategyDeployment schema lives in @tradeplane/strategy-api, so that the strategy
// runtime reads its spec without the operator and its Kubernetes client; the CRD is still
// generated here from it (crd.ts).
export * from "@tradeplane/strategy-api/strategy-deployment";
