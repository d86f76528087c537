import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './api-types';

export type { components, paths };
export { SseParser, type SseEvent } from './sse';
/** A response body the API documents, by schema name: `Schema<'JobResponse'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];
export type ApiClient = Client<paths>;

export interface ClientOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Another fetch (tests, a proxy-aware one); default: the global fetch. */
  fetch?: typeof fetch;
}

/** The API, typed from its own OpenAPI document (libs/client/src/api-types.ts, `npm run docs:api`). */
export function createApiClient(baseUrl: string, options: ClientOptions = {}): ApiClient {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
    fetch: options.fetch,
  });
}

/** The message a person should read from an API error body ({statusCode, error, message[, details]}). */
export function apiMessage(error: unknown, fallback = 'the API answered with an error'): string {
  if (typeof error === 'string' && error.trim()) return error.trim();
  if (typeof error !== 'object' || error === null) return fallback;
  const body = error as { message?: unknown; details?: unknown };
  const message = typeof body.message === 'string' ? body.message : fallback;
  const details = Array.isArray(body.details) ? body.details.filter((line): line is string => typeof line === 'string') : [];
  return details.length > 0 && !details.every((line) => message.includes(line)) ? `${message} (${details.join('; ')})` : message;
}
