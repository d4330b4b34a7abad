export * from "./strategy-deployment.ts";
export { API_GROUP, API_VERSION, objectMetaSchema } from "./object-meta.ts";
export type { CelRule } from "./kube-schema.ts";
