import { loadConfig } from './app-config';

const base = { API_TOKENS: 'alice:alice-token-123' };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env }, { requireTokens: true });

describe('retention settings', () => {
  it('keeps job records and their files 90 days by default, or JOB_RETENTION_DAYS, fractions allowed', () => {
    expect(load({}).jobRetentionDays).toBe(90);
    expect(load({ JOB_RETENTION_DAYS: '30' }).jobRetentionDays).toBe(30);
    expect(load({ JOB_RETENTION_DAYS: '0.5' }).jobRetentionDays).toBe(0.5);
  });

  it('refuses a value that is not a positive number of days', () => {
    for (const bad of ['0', '-1', '90d', '1e3', '.5']) {
      expect(() => load({ JOB_RETENTION_DAYS: bad })).toThrow(`JOB_RETENTION_DAYS must be a number > 0 (fractions allowed, e.g. 0.5), got "${bad}"`);
    }
  });
});
