import * as http from 'node:http';

export interface SseEvent {
  /** 'message' when the event names none, as EventSource does. */
  event: string;
  id: string | undefined;
  data: string;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Every event so far, in order; comments (keep-alives) only counted. */
  events: SseEvent[];
  comments: number;
  /** The whole body, for answers that are not a stream (errors). */
  text(): string;
  /** Resolves when the server ends the response (or the client closes it). */
  ended: Promise<void>;
  /** Drops the connection, as a closed browser tab would. */
  close(): void;
}

/** A GET that reads a text/event-stream as it arrives; resolves once the status line is in. */
export function openSse(baseUrl: string, path: string, headers: Record<string, string>): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const outgoing = http.get(new URL(path, baseUrl), { headers: { Accept: 'text/event-stream', ...headers }, agent: false }, (incoming) => {
      let raw = '';
      let pending = '';
      const stream: SseStream = {
        status: incoming.statusCode ?? 0,
        headers: incoming.headers,
        events: [],
        comments: 0,
        text: () => raw,
        ended: new Promise((done) => incoming.on('close', () => done())),
        close: () => outgoing.destroy(),
      };
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => {
        raw += chunk;
        pending += chunk;
        let boundary: number;
        while ((boundary = pending.indexOf('\n\n')) >= 0) {
          parseBlock(pending.slice(0, boundary), stream);
          pending = pending.slice(boundary + 2);
        }
      });
      incoming.on('error', () => undefined);
      resolve(stream);
    });
    outgoing.on('error', reject);
  });
}

function parseBlock(block: string, stream: SseStream): void {
  const event: SseEvent = { event: 'message', id: undefined, data: '' };
  let fields = 0;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      stream.comments += 1;
      continue;
    }
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, '');
    fields += 1;
    if (name === 'event') event.event = value;
    else if (name === 'id') event.id = value;
    else if (name === 'data') event.data = event.data ? `${event.data}\n${value}` : value;
  }
  if (fields > 0) stream.events.push(event);
}

/** The log text the stream's log events carry, joined. */
export function logText(stream: SseStream): string {
  return stream.events.filter((event) => event.event === 'message').map((event) => (JSON.parse(event.data) as { text: string }).text).join('');
}
