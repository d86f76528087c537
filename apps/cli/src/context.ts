import { ApiClient, createApiClient } from '@app/client';
import { REQUEST_TIMEOUT_MS } from './api-call';
import { usageError } from './exit-codes';

export const DEFAULT_URL = 'http://127.0.0.1:8010';

/** The global options and environment every command runs with, read once. */
export interface CliContext {
  baseUrl: string;
  token: string | undefined;
  client: ApiClient;
  /** The same client without a request timeout: for the log stream, which stays open. */
  streamClient: ApiClient;
  /** Progress and chatter go to stderr only when a person is watching it. */
  interactive: boolean;
}

export interface GlobalOptions {
  url?: string;
  token?: string;
}

export function makeContext(options: GlobalOptions, env: NodeJS.ProcessEnv): CliContext {
  const baseUrl = checkUrl(options.url ?? (env.LEADERBOARD_URL?.trim() || DEFAULT_URL));
  const token = options.token ?? (env.LEADERBOARD_TOKEN?.trim() || undefined);
  const timed: typeof fetch = (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return {
    baseUrl,
    token,
    client: createApiClient(baseUrl, { token, fetch: timed }),
    streamClient: createApiClient(baseUrl, { token }),
    interactive: Boolean(process.stderr.isTTY),
  };
}

function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--url / LEADERBOARD_URL "${text}" is not a URL (e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url / LEADERBOARD_URL must be http:// or https://, got "${text}"`);
  return text.replace(/\/+$/, '');
}
