import { collectDefaultMetrics, Registry } from 'prom-client';
import { createHash, timingSafeEqual } from 'node:crypto';

/** Every metric of ours starts with this, so a dashboard can tell them from process metrics. */
export const METRIC_PREFIX = 'leaderboard_';

/**
 * A registry of one app's own (never prom-client's global one, so tests can build several apps),
 * with Node's process metrics: CPU, memory, event loop lag, handles, GC.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Compares a presented token with the configured one in constant time (digests: lengths differ). */
export function scrapeTokenMatches(expected: string, given: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(expected), digest(given));
}
