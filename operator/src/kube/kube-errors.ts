import { TradeplaneError } from "@tradeplane/platform";

/** An API server answer other than success, with its HTTP code and the Status reason. */
export class KubeApiError extends TradeplaneError {
  override readonly name = "KubeApiError";
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(
      status === 404 ? "NOT_FOUND" : status === 409 ? "ABORTED" : status === 422 ? "INVALID_ARGUMENT" : "UNAVAILABLE",
      message,
    );
    this.status = status;
    this.reason = reason;
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.status === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409;
/** 410 Gone: the resourceVersion a watch asked for is too old; relist. */
export const isGone = (err: unknown): boolean => err instanceof KubeApiError && err.status === 410;
