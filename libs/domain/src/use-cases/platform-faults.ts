import { Unavailable } from '../errors/domain-errors';

/** A platform service whose outage is the platform's fault, never the user's. */
export type PlatformService = 'Redis' | 'MLflow';

/** A call to a platform service failed because the service is down: retry later, blame no one. */
export class PlatformFault extends Error {
  constructor(
    readonly service: PlatformService,
    message: string,
  ) {
    super(message);
    this.name = 'PlatformFault';
  }
}

/**
 * Runs a call against `service`, turning its Unavailable (the adapters' word for "down": Redis
 * unreachable or loading, MLflow refusing connections, timing out or answering 5xx/429) into a
 * PlatformFault. Every other error is the caller's to judge.
 */
export async function platformCall<T>(service: PlatformService, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Unavailable) throw new PlatformFault(service, error.message);
    throw error;
  }
}

export interface RetryPolicy {
  /** How long a job may keep failing for the platform before it fails for good (default 600 s). */
  windowMs: number;
  /** The first delay; each retry doubles it up to maxDelayMs (default 1 s to 30 s). */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { windowMs: 600_000, firstDelayMs: 1000, maxDelayMs: 30_000 };

/** The delay before retry number `retries + 1`. */
export function retryDelayMs(policy: RetryPolicy, retries: number): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.min(retries, 30));
}

/** One retry of a platform call, for the worker's log (and its metrics). */
export interface PlatformRetry {
  jobId: string;
  service: PlatformService;
  /** What was being done: "start", "upload the log", ... */
  step: string;
  attempt: number;
  /** 0 when given up. */
  delayMs: number;
  reason: string;
  /** A write to MLflow abandoned after the retry window; the record keeps the outcome. */
  gaveUp?: true;
}
