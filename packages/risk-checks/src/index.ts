export {
  NEW_ORDER_CHECKS,
  PASS,
  checkNewOrder,
  isVenueHalted,
  orderNotional,
  riskPrice,
  tradingStateReason,
  type AccountView,
  type Check,
  type CheckContext,
  type InstrumentView,
  type OrderIntent,
  type RiskReason,
} from "./checks.ts";
export { NO_LIMITS, effectiveLimits, type LimitOverrides, type Limits } from "./limits.ts";
export { newOrderRateWindow, orderRateWindowOf, tryAdmit, type OrderRateWindow } from "./order-rate-window.ts";
