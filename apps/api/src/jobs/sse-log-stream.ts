import type { Response } from 'express';
import { LogEvent, LogFollower } from './log-follow-hub';

/** A client this far behind is dropped; it resumes with Last-Event-ID instead of growing our memory. */
const MAX_BACKLOG_BYTES = 4 * 2 ** 20;

/**
 * One event in the text/event-stream format. Log text travels as JSON so that every character
 * (\r included, which SSE would read as a line end) arrives as written; `id` is the byte offset
 * to resume from.
 */
export function formatEvent(event: LogEvent): string {
  switch (event.kind) {
    case 'log':
      return `id: ${event.nextOffset}\ndata: ${JSON.stringify({ text: event.text })}\n\n`;
    case 'restart':
      return `event: restart\nid: 0\ndata: {}\n\n`;
    case 'end':
      return `event: end\nid: ${event.offset}\ndata: ${JSON.stringify({ status: event.job?.status ?? null, error_message: event.job?.errorMessage ?? null })}\n\n`;
    case 'heartbeat':
      return ': keep-alive\n\n';
  }
}

export interface SseFollower extends LogFollower {
  /** Sends the status line and headers; events before it are not possible (the hub sends on a later turn). */
  open(headers: Record<string, string>): void;
}

/** Writes the hub's events to `response` as an event stream. */
export function sseFollower(response: Response): SseFollower {
  return {
    open(headers) {
      response.status(200).set({
        ...headers,
        'Content-Type': 'text/event-stream; charset=utf-8',
        // no-transform: proxies must not compress (and so buffer) the stream.
        'Cache-Control': 'no-cache, no-transform',
        'X-Accel-Buffering': 'no',
      });
      response.flushHeaders();
    },
    send(event) {
      if (response.writableEnded || response.destroyed) return false;
      response.write(formatEvent(event));
      return response.writableLength <= MAX_BACKLOG_BYTES;
    },
    close() {
      if (!response.writableEnded) response.end();
    },
  };
}
