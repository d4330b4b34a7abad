/**
 * Flow control of OrderEntry requests: how many a FIX session (and the whole gateway) may
 * have in flight. Past a bound the session is paused: its application messages are held (the
 * session level is still answered) and past a bound of held messages its socket is no longer
 * read, so the client's own TCP window fills and it slows down (back-pressure, as exchanges
 * do); the session resumes once the count is back at a low-water mark. Requests are never
 * failed for load.
 *
 * Pure: this keeps counts and says which sessions to pause or resume; the acceptor does it.
 */

export interface FlowLimits {
  /** Requests one session may have in flight; at this count its socket is paused. */
  readonly sessionMaxInFlight: number;
  /** A paused session resumes when its count is at or below this (and the gateway's is too). */
  readonly sessionResumeInFlight: number;
  /** Requests all sessions together may have in flight; at this count every session is paused. */
  readonly gatewayMaxInFlight: number;
  readonly gatewayResumeInFlight: number;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = {
  sessionMaxInFlight: 1_000,
  sessionResumeInFlight: 500,
  gatewayMaxInFlight: 4_000,
  gatewayResumeInFlight: 2_000,
};

export class InvalidFlowLimitsError extends Error {
  override readonly name = "InvalidFlowLimitsError";
}

/** Bounds must be positive and each resume mark below its bound (or reading would flap). */
export function validFlowLimits(l: FlowLimits): FlowLimits {
  const ok =
    Number.isInteger(l.sessionMaxInFlight) &&
    Number.isInteger(l.sessionResumeInFlight) &&
    Number.isInteger(l.gatewayMaxInFlight) &&
    Number.isInteger(l.gatewayResumeInFlight) &&
    l.sessionMaxInFlight >= 1 &&
    l.gatewayMaxInFlight >= 1 &&
    l.sessionResumeInFlight >= 0 &&
    l.gatewayResumeInFlight >= 0 &&
    l.sessionResumeInFlight < l.sessionMaxInFlight &&
    l.gatewayResumeInFlight < l.gatewayMaxInFlight;
  if (!ok) throw new InvalidFlowLimitsError(`invalid flow limits ${JSON.stringify(l)}: 0 <= resume < max, max >= 1`);
  return l;
}

/**
 * Whether a session's socket should be read, given whether it is paused now and the counts:
 * a reading session pauses at either bound; a paused one resumes only when both counts are
 * down at their resume marks (hysteresis: one answer does not let one more order in).
 */
export function shouldRead(
  paused: boolean,
  sessionInFlight: number,
  gatewayInFlight: number,
  limits: FlowLimits,
): boolean {
  if (!paused) return sessionInFlight < limits.sessionMaxInFlight && gatewayInFlight < limits.gatewayMaxInFlight;
  return sessionInFlight <= limits.sessionResumeInFlight && gatewayInFlight <= limits.gatewayResumeInFlight;
}

export interface FlowChange {
  readonly pause: readonly string[];
  readonly resume: readonly string[];
}

const NO_CHANGE: FlowChange = { pause: [], resume: [] };

/** The counts per session and in total, and which sessions are paused. */
export class FlowControl {
  private readonly limits: FlowLimits;
  private readonly inFlight = new Map<string, number>();
  private readonly paused = new Set<string>();
  private total = 0;
  /** The most requests ever in flight at once, gateway-wide. */
  peakInFlight = 0;
  /** Times a session was paused. */
  pauses = 0;

  constructor(limits: FlowLimits = DEFAULT_FLOW_LIMITS) {
    this.limits = validFlowLimits(limits);
  }

  get gatewayInFlight(): number {
    return this.total;
  }

  get pausedSessions(): number {
    return this.paused.size;
  }

  /** Each session seen and its requests in flight. */
  perSession(): IterableIterator<[string, number]> {
    return this.inFlight.entries();
  }

  sessionInFlight(session: string): number {
    return this.inFlight.get(session) ?? 0;
  }

  isPaused(session: string): boolean {
    return this.paused.has(session);
  }

  /** A request of the session is sent: the sessions to pause now (it, or every one at the gateway bound). */
  started(session: string): FlowChange {
    const n = this.sessionInFlight(session) + 1;
    this.inFlight.set(session, n);
    this.total++;
    if (this.total > this.peakInFlight) this.peakInFlight = this.total;
    if (this.paused.has(session) && this.total < this.limits.gatewayMaxInFlight) return NO_CHANGE;
    if (this.total >= this.limits.gatewayMaxInFlight) {
      // Every session is paused at the gateway bound, not only the one that reached it.
      const pause = [...this.inFlight.keys()].filter((s) => !this.paused.has(s));
      for (const s of pause) this.paused.add(s);
      this.pauses += pause.length;
      return pause.length === 0 ? NO_CHANGE : { pause, resume: [] };
    }
    if (shouldRead(false, n, this.total, this.limits)) return NO_CHANGE;
    this.paused.add(session);
    this.pauses++;
    return { pause: [session], resume: [] };
  }

  /** A request of the session is answered (or failed): the sessions to resume now. */
  finished(session: string): FlowChange {
    const n = Math.max(0, this.sessionInFlight(session) - 1);
    if (this.total > 0) this.total--;
    this.inFlight.set(session, n);
    if (this.paused.size === 0) return NO_CHANGE;
    // At the gateway's resume mark every paused session that is itself low enough resumes;
    // otherwise only this one can have crossed its own mark.
    const candidates = this.total === this.limits.gatewayResumeInFlight ? [...this.paused] : [session];
    const resume = candidates.filter(
      (s) => this.paused.has(s) && shouldRead(true, this.sessionInFlight(s), this.total, this.limits),
    );
    for (const s of resume) this.paused.delete(s);
    return resume.length === 0 ? NO_CHANGE : { pause: [], resume };
  }

  /** The session is gone: its counts are forgotten (its answers may still come: counted down to 0). */
  forget(session: string): void {
    this.paused.delete(session);
  }

  /** A session (re)connects: reading unless a bound holds it back. */
  admit(session: string): FlowChange {
    if (!this.inFlight.has(session)) this.inFlight.set(session, 0);
    if (shouldRead(false, this.sessionInFlight(session), this.total, this.limits)) {
      this.paused.delete(session);
      return NO_CHANGE;
    }
    this.paused.add(session);
    this.pauses++;
    return { pause: [session], resume: [] };
  }
}
