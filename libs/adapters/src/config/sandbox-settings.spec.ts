import { loadConfig } from './app-config';
import { ConfigError } from './config-error';

const base = { API_TOKENS: 'alice:alice-token-123' };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env }, { requireTokens: true });

describe('sandbox settings', () => {
  it('gives worker slots uids from 200000 by default, or from SANDBOX_UID_BASE', () => {
    expect(load({}).sandboxUidBase).toBe(200000);
    expect(load({ SANDBOX_UID_BASE: '300000', WORKER_CONCURRENCY: '4' }).sandboxUidBase).toBe(300000);
  });

  it('refuses a base among system uids, a range over nobody or past 2^31, and the replaced SANDBOX_UID', () => {
    expect(() => load({ SANDBOX_UID_BASE: '0' })).toThrow(/SANDBOX_UID_BASE must be a whole number >= 1000, got "0"/);
    expect(() => load({ SANDBOX_UID_BASE: '65533', WORKER_CONCURRENCY: '2' })).toThrow(
      new ConfigError('SANDBOX_UID_BASE (65533) + 2 slots (jobs) and + 1000 + 2 slots (scorers) must stay below 2147483647 and not include 65534 (nobody)'),
    );
    expect(() => load({ SANDBOX_UID_BASE: String(2 ** 31 - 2), WORKER_CONCURRENCY: '2' })).toThrow(/must stay below 2147483647/);
    // The scorers' range (base + 1000 + slot) must miss nobody and the top too.
    expect(() => load({ SANDBOX_UID_BASE: '64534', WORKER_CONCURRENCY: '1' })).toThrow(/not include 65534/);
    expect(() => load({ SANDBOX_UID_BASE: String(2 ** 31 - 1000), WORKER_CONCURRENCY: '1' })).toThrow(/must stay below 2147483647/);
    expect(() => load({ WORKER_CONCURRENCY: '1001' })).toThrow(/must be at most 1000: job and scorer uids would overlap/);
    expect(() => load({ SANDBOX_UID: '65534' })).toThrow(new ConfigError('SANDBOX_UID was replaced by SANDBOX_UID_BASE (slot N runs as uid and gid base+N); rename it'));
  });
});
