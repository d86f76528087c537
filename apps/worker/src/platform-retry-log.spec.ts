import { RepeatFilter } from './platform-retry-log';

describe('RepeatFilter', () => {
  it('lets a message through once per quiet period and counts the repeats it held back', () => {
    const filter = new RepeatFilter(1000);
    expect(filter.pass('connect ECONNREFUSED', 0)).toBe('connect ECONNREFUSED');
    expect(filter.pass('connect ECONNREFUSED', 100)).toBeUndefined();
    expect(filter.pass('connect ECONNREFUSED', 999)).toBeUndefined();
    expect(filter.pass('connect ECONNREFUSED', 1000)).toBe('connect ECONNREFUSED (the line before repeated 2 more times)');
    expect(filter.pass('read ECONNRESET', 1001)).toBe('read ECONNRESET');
    expect(filter.pass('connect ECONNREFUSED', 1002)).toBe('connect ECONNREFUSED');
  });
});
