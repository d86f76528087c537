import { apiMessage } from '@app/client';

/** What a page needs from one API call: the data, or the API's own message about why not. */
export type ApiResult<T> = { ok: true; data: T; response: Response } | { ok: false; message: string; status: number };

interface FetchAnswer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Turns an openapi-fetch answer (or a network failure) into an ApiResult. */
export async function settle<T>(request: Promise<FetchAnswer<T>>): Promise<ApiResult<T>> {
  try {
    const { data, error, response } = await request;
    if (response.ok && data !== undefined) return { ok: true, data, response };
    return { ok: false, status: response.status, message: apiMessage(error, `the API answered ${response.status} ${response.statusText}`) };
  } catch (error) {
    return { ok: false, status: 0, message: `could not reach the API (${error instanceof Error ? error.message : String(error)})` };
  }
}
