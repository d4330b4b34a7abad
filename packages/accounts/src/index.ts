export * from "./records.ts";
export * from "./accounts-bucket.ts";
