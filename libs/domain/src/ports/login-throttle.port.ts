/** Whether a client may have its credentials looked at now. */
export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Counts failed logins per client (an address, never a user name an attacker can type) in a fixed
 * window. A client at the limit is refused until its window ends, whether its next credentials are
 * right or wrong: answering a right guess would turn the refusal into an oracle.
 */
export abstract class LoginThrottlePort {
  /** For a request whose credentials were right: allowed unless the client is at the limit. Counts nothing. */
  abstract check(client: string): Promise<ThrottleVerdict>;
  /**
   * For a request whose credentials were wrong: counts one failure and answers allowed (the caller
   * then says 401), or, when the client was already at the limit, counts nothing and refuses.
   * Atomic, so a burst of parallel guesses gets no more than the limit answered.
   */
  abstract recordFailure(client: string): Promise<ThrottleVerdict>;
}
