/**
 * @tradeplane/contracts: the venue's wire contracts and the names of its NATS objects.
 *
 * Generated code (src/gen, from proto/ by `npm run proto`) is re-exported flat: every
 * message, enum and service of package tradeplane.v1 has a unique name in the package,
 * and the generator is told not to export its per-file helpers (exportCommonSymbols=false),
 * so nothing clashes. Each message `M` is both a type and a codec value
 * (`M.encode`, `M.decode`, `M.create`, `M.fromPartial`, `M.toJSON`, `M.fromJSON`);
 * each enum is a const object plus a union type (`Side.BUY`, `type Side`). Deep imports
 * of one generated module work too: `@tradeplane/contracts/gen/engine`.
 */
import type { BinaryWriter } from "@bufbuild/protobuf/wire";

export * from "./gen/google/protobuf/timestamp.ts";
export * from "./gen/tradeplane/v1/common.ts";
export * from "./gen/tradeplane/v1/engine.ts";
export * from "./gen/tradeplane/v1/order_entry.ts";
export * from "./gen/tradeplane/v1/market_data.ts";
export * from "./gen/tradeplane/v1/venue_admin.ts";
export * from "./gen/tradeplane/v1/risk_admin.ts";
export * from "./gen/tradeplane/v1/journal_query.ts";
export * from "./gen/tradeplane/v1/gateway_peer.ts";
export * from "./subjects.ts";
export * from "./channel-options.ts";
export * from "./command-seq.ts";
export * from "./log-format.ts";

/**
 * The binary codec every generated message value provides, for code that encodes or
 * decodes messages generically (e.g. a JetStream publisher taking `Command` or
 * `EngineEvent`). Decoding throws on malformed input and on 64-bit values beyond
 * Number.MAX_SAFE_INTEGER.
 */
export interface MessageCodec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: Uint8Array, length?: number): T;
}
