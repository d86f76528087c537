import { apiMessage } from '@app/client';
import { CliFailure, EXIT } from './exit-codes';

/** Network errors that mean "the API is not there" rather than "the API said no". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** How long one request may take before the API counts as unreachable (the log stream excepted). */
export const REQUEST_TIMEOUT_MS = 30_000;

interface ApiResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Runs one openapi-fetch call: its data, or a CliFailure with the exit code its failure means. */
export async function call<T>(baseUrl: string, request: () => Promise<ApiResult<T>>): Promise<T> {
  return (await callWithResponse(baseUrl, request)).data;
}

/** As `call`, with the response too (for its headers). */
export async function callWithResponse<T>(baseUrl: string, request: () => Promise<ApiResult<T>>): Promise<{ data: T; response: Response }> {
  let result: ApiResult<T>;
  try {
    result = await request();
  } catch (error) {
    throw unreachable(baseUrl, error);
  }
  if (result.response.ok) return { data: result.data as T, response: result.response };
  throw refused(result.response.status, result.response.headers.get('retry-after'), result.error);
}

/** The CliFailure for an answer that is not a success. */
export function refused(status: number, retryAfter: string | null | undefined, body: unknown): CliFailure {
  const message = apiMessage(body, `the API answered ${status}`);
  if (status === 429) {
    const seconds = Number(retryAfter);
    const when = Number.isFinite(seconds) && seconds >= 0 ? `retry in ${Math.ceil(seconds)} s` : 'retry later';
    return new CliFailure(`rate limited: ${message}; ${when}`, EXIT.rateLimited, {
      http_status: status,
      retry_after_s: Number.isFinite(seconds) ? Math.ceil(seconds) : null,
    });
  }
  return new CliFailure(`API error ${status}: ${message}`, EXIT.apiError, { http_status: status });
}

/** The CliFailure for a request that got no answer at all. */
export function unreachable(baseUrl: string, error: unknown): CliFailure {
  if (error instanceof CliFailure) return error;
  const code = errorCode(error);
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new CliFailure(`API unreachable at ${baseUrl}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`, EXIT.unreachable);
  }
  if (code && UNREACHABLE_CODES.has(code)) return new CliFailure(`API unreachable at ${baseUrl} (${code})`, EXIT.unreachable);
  if (error instanceof SyntaxError) return new CliFailure(`the API at ${baseUrl} answered something that is not JSON: ${error.message}`, EXIT.apiError);
  const cause = (error as { cause?: { message?: unknown } } | null)?.cause;
  const detail = typeof cause?.message === 'string' ? cause.message : ((error as Error)?.message ?? String(error));
  return new CliFailure(`API unreachable at ${baseUrl}: ${detail}${code ? ` (${code})` : ''}`, EXIT.unreachable);
}

/** fetch hides the socket's error code in `cause` (sometimes two levels down). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
