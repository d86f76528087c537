import { ConfigError } from './config-error';
import { Env, readChoice, readInt, readList } from './env-readers';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ObservabilitySettings {
  /** METRICS_TOKEN: a Bearer token that may read /metrics (API and workers); null: only admins (API). */
  metricsToken: string | null;
  /** WORKER_METRICS_PORT: where each worker serves its own /metrics; null: workers serve none. */
  workerMetricsPort: number | null;
  /** LOG_FORMAT: one JSON object per line (default), or pretty for a person at a terminal. */
  logFormat: 'json' | 'pretty';
  logLevel: LogLevel;
}

/** Metrics and logs settings; a scrape token is as strong as an API token and never one of them. */
export function readObservabilitySettings(env: Env): ObservabilitySettings {
  const metricsToken = env.METRICS_TOKEN?.trim() || null;
  if (metricsToken !== null) {
    if (metricsToken.length < 16 || !/^[\x21-\x7e]+$/.test(metricsToken)) {
      throw new ConfigError('METRICS_TOKEN must be at least 16 visible ASCII characters with no spaces (e.g. openssl rand -hex 24)');
    }
    const clash = readList(env, 'API_TOKENS').find((pair) => pair.slice(pair.indexOf(':') + 1).trim() === metricsToken);
    if (clash) throw new ConfigError(`METRICS_TOKEN must differ from every API token; it equals the token of "${clash.slice(0, clash.indexOf(':'))}"`);
  }
  const port = env.WORKER_METRICS_PORT?.trim();
  const workerMetricsPort = port && port !== '0' ? readInt(env, 'WORKER_METRICS_PORT', 0) : null;
  if (workerMetricsPort !== null && workerMetricsPort > 65535) {
    throw new ConfigError(`WORKER_METRICS_PORT must be a TCP port (1 to 65535), or 0 or empty for none; got "${port}"`);
  }
  if (workerMetricsPort !== null && metricsToken === null) {
    throw new ConfigError('WORKER_METRICS_PORT needs METRICS_TOKEN: a worker has no API tokens to check a scraper against; set METRICS_TOKEN or leave WORKER_METRICS_PORT empty');
  }
  return {
    metricsToken,
    workerMetricsPort,
    logFormat: readChoice(env, 'LOG_FORMAT', 'json', ['json', 'pretty'] as const),
    logLevel: readChoice(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
  };
}
