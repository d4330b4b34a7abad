import { notionalPerTickLot, type TradingVenue } from "@tradeplane/operator/api/v1alpha1";

export { engineServiceConfig, localPorts, partitionsOf } from "@tradeplane/operator/service-configs";

/** Notional units of one lot at price 1 of a venue's instrument. */
export function notionalPerTickLotOf(venue: TradingVenue, symbol: string): number {
  const instrument = venue.spec.instruments.find((i) => i.symbol === symbol);
  return instrument === undefined ? 1 : notionalPerTickLot(instrument, venue.spec.market.notionalExponent);
}
