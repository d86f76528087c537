import { Unavailable } from '@app/domain';

export interface MlflowTrackingOptions {
  /** Base URL of the tracking server, e.g. http://127.0.0.1:5010. */
  trackingUri: string;
  /** Extra attempts after the first for network errors, 5xx and 429 (default 3). */
  retries?: number;
  /** Delay before the first retry; doubles on each further one (default 200 ms). */
  retryDelayMs?: number;
  /** Limit for one HTTP attempt (default 10 s). */
  timeoutMs?: number;
}

/** MLflow refused the request: `errorCode` is MLflow's own (RESOURCE_DOES_NOT_EXIST, ...). */
export class MlflowApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'MlflowApiError';
  }
}

type Attempt = { ok: true; status: number; text: string } | { ok: false; cause: string };

/** fetch against MLflow's REST API with a timeout per attempt and exponential backoff. */
export class MlflowRestClient {
  readonly trackingUri: string;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;

  constructor(options: MlflowTrackingOptions) {
    this.trackingUri = options.trackingUri.replace(/\/+$/, '');
    this.attempts = (options.retries ?? 3) + 1;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  get<T>(path: string, query: Record<string, string>): Promise<T> {
    return this.send<T>('GET', `/api/2.0/mlflow/${path}?${new URLSearchParams(query)}`);
  }

  /** `once`: a single attempt, for requests that are not safe to repeat blindly (runs/create). */
  post<T>(path: string, body: object, options: { once?: boolean } = {}): Promise<T> {
    return this.send<T>('POST', `/api/2.0/mlflow/${path}`, JSON.stringify(body), 'application/json', options.once ? 1 : this.attempts);
  }

  async put(path: string, content: Uint8Array): Promise<void> {
    await this.send('PUT', path, content, 'application/octet-stream');
  }

  /** One quick attempt at /health, for health checks: never throws. */
  async ping(): Promise<boolean> {
    const attempt = await this.attempt('GET', '/health');
    return attempt.ok && attempt.status === 200;
  }

  private async send<T>(method: string, path: string, body?: string | Uint8Array, contentType?: string, attempts = this.attempts): Promise<T> {
    let cause = '';
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (attempt > 1) await sleep(this.retryDelayMs * 2 ** (attempt - 2));
      const result = await this.attempt(method, path, body, contentType);
      if (!result.ok) {
        cause = result.cause;
        continue;
      }
      const { status, text } = result;
      if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
      const { errorCode, message } = parseError(text);
      if (status >= 500 || status === 429) {
        cause = `HTTP ${status} ${message}`;
        continue;
      }
      throw new MlflowApiError(status, errorCode, `MLflow ${method} ${path.split('?')[0]} failed (HTTP ${status}): ${message}`);
    }
    throw new Unavailable(`MLflow tracking server at ${this.trackingUri} is unreachable after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${cause}`);
  }

  private async attempt(method: string, path: string, body?: string | Uint8Array, contentType?: string): Promise<Attempt> {
    try {
      const response = await fetch(`${this.trackingUri}${path}`, {
        method,
        body,
        headers: contentType ? { 'content-type': contentType } : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return { ok: true, status: response.status, text: await response.text() };
    } catch (error) {
      return { ok: false, cause: describeFetchError(error) };
    }
  }
}

function parseError(text: string): { errorCode?: string; message: string } {
  try {
    const body = JSON.parse(text) as { error_code?: string; message?: string };
    return { errorCode: body.error_code, message: body.message ?? text };
  } catch {
    // Some refusals (host-header check, proxies) answer in plain text or HTML.
    return { message: text.trim().slice(0, 300) || '(empty body)' };
  }
}

/** Node's fetch says only "fetch failed"; the useful part (ECONNREFUSED, timeout) is in `cause`. */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause ? `${error.message} (${cause})` : error.message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
