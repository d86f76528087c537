import { loadConfig } from './app-config';
import { ConfigError } from './config-error';

const base = { API_TOKENS: 'alice:alice-token-123' };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env }, { requireTokens: true });

describe('metrics and logs settings', () => {
  it('defaults to JSON logs at info, no scrape token and no worker metrics port', () => {
    expect(load({})).toMatchObject({ metricsToken: null, workerMetricsPort: null, logFormat: 'json', logLevel: 'info' });
    expect(load({ METRICS_TOKEN: 'a'.repeat(16), WORKER_METRICS_PORT: '9464', LOG_FORMAT: 'pretty', LOG_LEVEL: 'warn' })).toMatchObject({
      metricsToken: 'a'.repeat(16),
      workerMetricsPort: 9464,
      logFormat: 'pretty',
      logLevel: 'warn',
    });
    expect(load({ WORKER_METRICS_PORT: '0' }).workerMetricsPort).toBeNull();
  });

  it('refuses a weak or reused scrape token, a port without one, and unknown formats', () => {
    expect(() => load({ METRICS_TOKEN: 'short' })).toThrow(new ConfigError('METRICS_TOKEN must be at least 16 visible ASCII characters with no spaces (e.g. openssl rand -hex 24)'));
    expect(() => load({ API_TOKENS: 'alice:same-token-as-metrics', METRICS_TOKEN: 'same-token-as-metrics' })).toThrow(
      new ConfigError('METRICS_TOKEN must differ from every API token; it equals the token of "alice"'),
    );
    expect(() => load({ WORKER_METRICS_PORT: '9464' })).toThrow(/WORKER_METRICS_PORT needs METRICS_TOKEN/);
    expect(() => load({ METRICS_TOKEN: 'a'.repeat(16), WORKER_METRICS_PORT: '70000' })).toThrow(/WORKER_METRICS_PORT must be a TCP port \(1 to 65535\), or 0 or empty for none; got "70000"/);
    expect(() => load({ METRICS_TOKEN: 'a'.repeat(16), WORKER_METRICS_PORT: 'http' })).toThrow(/WORKER_METRICS_PORT must be a whole number >= 1, got "http"/);
    expect(() => load({ LOG_FORMAT: 'xml' })).toThrow(new ConfigError('LOG_FORMAT must be one of json, pretty, got "xml"'));
    expect(() => load({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/);
  });
});
