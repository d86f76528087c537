import { apiMessage, SseParser } from '@app/client';

export interface LogFollowerHandlers {
  onText(text: string): void;
  /** A new attempt of the job started its log over: drop what was shown. */
  onRestart(): void;
  /** The job is final and every byte of its log was sent. */
  onEnd(final: { status?: string; error_message?: string | null }): void;
  /** A refusal (4xx) or repeated failures: the API's message; following stops. */
  onError(message: string): void;
  /** A dropped connection that will be retried from the last id. */
  onRetry?(message: string): void;
}

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

/**
 * Follows GET /jobs/{id}/logs?follow=true: `data: {"text": ...}` events whose id is the log's byte
 * offset after them, so a dropped connection resumes from the last id (Last-Event-ID) with nothing
 * lost or repeated; `event: restart` starts the log over; `event: end` closes it. Returns a stop function.
 */
export function followLog(jobId: string, token: string, handlers: LogFollowerHandlers): () => void {
  const controller = new AbortController();
  let offset = 0;
  let failures = 0;

  const run = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      let dropped: string;
      try {
        const response = await fetch(`/jobs/${encodeURIComponent(jobId)}/logs?follow=true&offset=${offset}`, {
          headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream', ...(offset > 0 ? { 'Last-Event-ID': String(offset) } : {}) },
          signal: controller.signal,
        });
        if (!response.ok) {
          const body: unknown = await response.json().catch(() => undefined);
          const message = apiMessage(body, `the API answered ${response.status} ${response.statusText}`);
          if (response.status < 500 && response.status !== 429) return handlers.onError(message);
          dropped = message;
        } else {
          const ended = await readStream(response, (id) => {
            failures = 0;
            offset = id;
          });
          if (ended) return handlers.onEnd(ended);
          dropped = 'the connection closed before the log ended';
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        dropped = error instanceof Error ? error.message : String(error);
      }
      if (failures >= RETRY_DELAYS_MS.length) return handlers.onError(`lost the live log: ${dropped}`);
      handlers.onRetry?.(`${dropped}; reconnecting`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[failures++]));
    }
  };

  /** Reads events until the stream ends; the final status when the server said `event: end`. */
  const readStream = async (response: Response, onOffset: (offset: number) => void): Promise<{ status?: string } | undefined> => {
    if (!response.body) return undefined;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      for (const event of parser.push(value)) {
        const data = parseData(event.data);
        if (event.event === 'end') {
          void reader.cancel();
          return data;
        }
        if (event.event === 'restart') handlers.onRestart();
        if (event.event === 'message' && typeof data.text === 'string' && data.text) handlers.onText(data.text);
        const id = Number(event.id);
        if (event.id !== undefined && Number.isSafeInteger(id) && id >= 0) onOffset(id);
      }
    }
  };

  void run();
  return () => controller.abort();
}

function parseData(data: string): { text?: unknown; status?: string; error_message?: string | null } {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}
