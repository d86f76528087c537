import { loadConfig } from './app-config';

const base = { API_TOKENS: 'alice:alice-token-123' };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env }, { requireTokens: true });

describe('platform fault settings', () => {
  it('lets Redis or MLflow keep a job from starting for 600 s by default, or INFRA_RETRY_WINDOW_S', () => {
    expect(load({}).infraRetryWindowSeconds).toBe(600);
    expect(load({ INFRA_RETRY_WINDOW_S: '5' }).infraRetryWindowSeconds).toBe(5);
  });

  it('refuses a window that is not a whole number of seconds', () => {
    expect(() => load({ INFRA_RETRY_WINDOW_S: '0' })).toThrow('INFRA_RETRY_WINDOW_S must be a whole number >= 1, got "0"');
    expect(() => load({ INFRA_RETRY_WINDOW_S: '10m' })).toThrow('INFRA_RETRY_WINDOW_S must be a whole number >= 1, got "10m"');
  });
});
