import { loginThrottleContract } from '../contracts/login-throttle.contract';
import { FixedClock } from './fixed-clock';
import { InMemoryLoginThrottle } from './in-memory-login-throttle';

describe('InMemoryLoginThrottle', () =>
  loginThrottleContract(async (limits) => {
    const clock = new FixedClock();
    return {
      throttle: new InMemoryLoginThrottle(clock, limits),
      elapse: async (milliseconds) => clock.advance(milliseconds),
    };
  }));
