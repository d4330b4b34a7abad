export { applyFill, closeOrder, newPosition, openOrder, unrealisedPnl, type Position } from "./positions.ts";
export {
  DEFAULT_REPORTS_KEPT,
  OrderProjection,
  ProjectionSnapshotError,
  emptyOrder,
  type AccountReport,
  type AccountRiskSummary,
  type InstrumentTerms,
  type ProjectionSnapshot,
} from "./order-projection.ts";
export { AccountControls } from "./account-controls.ts";
