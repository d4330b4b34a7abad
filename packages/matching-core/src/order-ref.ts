/** What the partition keeps of a live order; never changed in place (see `captured`). */
export interface OrderRef {
  readonly account: number;
  readonly clientOrderId: string;
  readonly side: number;
  readonly orderType: number;
  readonly tif: number;
  readonly price: number;
  readonly stopPrice: number;
  readonly qty: number;
}
