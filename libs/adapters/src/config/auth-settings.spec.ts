import { loadConfig } from './app-config';
import { ConfigError } from './config-error';

const base = { API_TOKENS: 'alice:alice-token-123' };

describe('authentication settings', () => {
  it('defaults to 20 failed logins per 5 minutes per address, and does not trust X-Forwarded-For', () => {
    const config = loadConfig(base, { requireTokens: true });
    expect(config.authThrottle).toEqual({ failuresPerWindow: 20, windowSeconds: 300 });
    expect(config.trustProxy).toBe(false);
  });

  it('reads the limit and TRUST_PROXY, and names the variable of a bad value', () => {
    const config = loadConfig({ ...base, AUTH_FAILURES_PER_WINDOW: '5', AUTH_FAILURE_WINDOW_S: '60', TRUST_PROXY: 'true' }, { requireTokens: true });
    expect(config.authThrottle).toEqual({ failuresPerWindow: 5, windowSeconds: 60 });
    expect(config.trustProxy).toBe(true);
    expect(() => loadConfig({ ...base, TRUST_PROXY: 'yes' }, { requireTokens: true })).toThrow(/TRUST_PROXY must be one of false, true/);
    expect(() => loadConfig({ ...base, AUTH_FAILURES_PER_WINDOW: '0' }, { requireTokens: true })).toThrow(/AUTH_FAILURES_PER_WINDOW/);
  });

  it('refuses a token no Authorization header could carry', () => {
    for (const token of ['with space-123', 'tab\there-123', 'non-ascii-é-123']) {
      expect(() => loadConfig({ API_TOKENS: `alice:${token}` }, { requireTokens: true })).toThrow(new ConfigError('API_TOKENS token for "alice" may only use visible ASCII characters (no spaces)'));
    }
  });
});
