import { LoginThrottlePort } from '@app/domain';

export interface ThrottleUnderTest {
  throttle: LoginThrottlePort;
  /** Lets `milliseconds` pass (a real wait for Redis, a clock step for the fake). */
  elapse(milliseconds: number): Promise<void>;
}

/** What every LoginThrottlePort promises, checked with a limit of 3 failures per 1 s window. */
export function loginThrottleContract(make: (limits: { failuresPerWindow: number; windowSeconds: number }) => Promise<ThrottleUnderTest>): void {
  const limits = { failuresPerWindow: 3, windowSeconds: 1 };

  it('answers the first failures of a window, then refuses right and wrong credentials alike', async () => {
    const { throttle } = await make(limits);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(await throttle.check('10.0.0.1')).toEqual({ allowed: true });
      expect(await throttle.recordFailure('10.0.0.1')).toEqual({ allowed: true });
    }
    expect(await throttle.recordFailure('10.0.0.1')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(await throttle.check('10.0.0.1')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('keys on the client: another address is untouched, and a success elsewhere resets nothing', async () => {
    const { throttle } = await make(limits);
    for (let attempt = 0; attempt < 4; attempt += 1) await throttle.recordFailure('10.0.0.1');
    expect(await throttle.check('10.0.0.2')).toEqual({ allowed: true });
    expect(await throttle.recordFailure('10.0.0.2')).toEqual({ allowed: true });
    expect(await throttle.check('10.0.0.1')).toMatchObject({ allowed: false });
  });

  it('refused attempts do not stretch the window; it ends on time and the count starts over', async () => {
    const { throttle, elapse } = await make(limits);
    for (let attempt = 0; attempt < 3; attempt += 1) await throttle.recordFailure('10.0.0.3');
    await elapse(600);
    expect(await throttle.recordFailure('10.0.0.3')).toMatchObject({ allowed: false });
    await elapse(500);
    expect(await throttle.check('10.0.0.3')).toEqual({ allowed: true });
    for (let attempt = 0; attempt < 3; attempt += 1) expect(await throttle.recordFailure('10.0.0.3')).toEqual({ allowed: true });
    expect(await throttle.recordFailure('10.0.0.3')).toMatchObject({ allowed: false });
  });

  it('lets no more than the limit through a burst of parallel failures', async () => {
    const { throttle } = await make(limits);
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => throttle.recordFailure('10.0.0.4')));
    expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(3);
  });
}
