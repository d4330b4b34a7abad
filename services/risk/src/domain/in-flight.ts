import { Side } from "@tradeplane/contracts";

/** What a new order, or a replace that grows one, adds to its account's open orders until the engine's events for it are applied. */
export interface Hold {
  readonly instrument: string;
  readonly side: number;
  readonly qty: number;
  readonly exposure: number;
}

/** What an account has in flight in one instrument: open quantity per side, and its exposure in every instrument. */
export interface InFlightView {
  readonly buyQty: number;
  readonly sellQty: number;
  readonly exposure: number;
}

export const NOTHING_IN_FLIGHT: InFlightView = Object.freeze({ buyQty: 0, sellQty: 0, exposure: 0 });

interface AccountFlight {
  exposure: number;
  readonly qty: Map<string, { buy: number; sell: number }>;
  readonly clientOrderIds: Set<string>;
}

/**
 * Commands written to the log and not yet applied, per account. The projection counts an
 * order only once the engine's events for it come back; without this, a burst (a session
 * batch, concurrent calls) would pass the duplicate client order id, position and credit
 * checks that the same orders one after another would fail. Pure bookkeeping: the adapter
 * calls `track` before it appends and the returned release once the command is applied
 * (or was never stored).
 */
export class InFlightOrders {
  private readonly accounts = new Map<string, AccountFlight>();

  /** Holds `clientOrderId` as pending and `hold` as open; returns the release, which runs once. */
  track(account: string, clientOrderId: string, hold?: Hold): () => void {
    const flight = this.flightOf(account);
    flight.clientOrderIds.add(clientOrderId);
    if (hold !== undefined) this.add(flight, hold, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      flight.clientOrderIds.delete(clientOrderId);
      if (hold !== undefined) this.add(flight, hold, -1);
    };
  }

  /** The account's client order ids: the live ones (`live`, never copied) and the pending ones. */
  clientOrderIds(account: string, live: { has(id: string): boolean }): { has(id: string): boolean } {
    const pending = this.accounts.get(account)?.clientOrderIds;
    return pending === undefined || pending.size === 0 ? live : { has: (id) => live.has(id) || pending.has(id) };
  }

  /** What the account has in flight in `instrument` (and its exposure over every instrument). */
  of(account: string, instrument: string): InFlightView {
    const flight = this.accounts.get(account);
    if (flight === undefined) return NOTHING_IN_FLIGHT;
    const qty = flight.qty.get(instrument);
    return { buyQty: qty?.buy ?? 0, sellQty: qty?.sell ?? 0, exposure: flight.exposure };
  }

  private flightOf(account: string): AccountFlight {
    let flight = this.accounts.get(account);
    if (flight === undefined) {
      flight = { exposure: 0, qty: new Map(), clientOrderIds: new Set() };
      this.accounts.set(account, flight);
    }
    return flight;
  }

  private add(flight: AccountFlight, hold: Hold, sign: 1 | -1): void {
    let q = flight.qty.get(hold.instrument);
    if (q === undefined) {
      q = { buy: 0, sell: 0 };
      flight.qty.set(hold.instrument, q);
    }
    if (hold.side === Side.BUY) q.buy += sign * hold.qty;
    else q.sell += sign * hold.qty;
    flight.exposure += sign * hold.exposure;
  }
}
