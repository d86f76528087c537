import { ClockPort, LoginThrottlePort, ThrottleVerdict } from '@app/domain';

/** Failure counts in a map, windows timed by a clock the test moves. */
export class InMemoryLoginThrottle extends LoginThrottlePort {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();

  constructor(
    private readonly clock: ClockPort,
    private readonly limits: { failuresPerWindow: number; windowSeconds: number },
  ) {
    super();
  }

  async check(client: string): Promise<ThrottleVerdict> {
    return this.verdict(this.current(client));
  }

  async recordFailure(client: string): Promise<ThrottleVerdict> {
    const window = this.current(client) ?? { failures: 0, endsAt: this.clock.now() + this.limits.windowSeconds * 1000 };
    const verdict = this.verdict(window);
    if (verdict.allowed) this.windows.set(client, { ...window, failures: window.failures + 1 });
    return verdict;
  }

  private current(client: string): { failures: number; endsAt: number } | undefined {
    const window = this.windows.get(client);
    return window && window.endsAt > this.clock.now() ? window : undefined;
  }

  private verdict(window: { failures: number; endsAt: number } | undefined): ThrottleVerdict {
    if (!window || window.failures < this.limits.failuresPerWindow) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.endsAt - this.clock.now()) / 1000)) };
  }
}
