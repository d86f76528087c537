import * as http from 'node:http';
import * as net from 'node:net';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body as JSON, or undefined when it is not JSON (Node's own 400/431 have no body). */
  json: { statusCode?: number; message?: string } | undefined;
}

/**
 * One request from a chosen loopback address (127.0.0.2 is another client to the API), so tests
 * can play an attacker and a real user side by side.
 */
export function send(
  url: string,
  options: { path: string; method?: string; headers?: Record<string, string>; from?: string; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      new URL(options.path, url),
      { method: options.method ?? 'GET', headers: options.headers, localAddress: options.from ?? '127.0.0.1', agent: false },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => resolve(reply(incoming.statusCode ?? 0, incoming.headers, Buffer.concat(chunks).toString('utf8'))));
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/**
 * Writes a request byte for byte on a bare socket: HTTP clients merge or refuse duplicate and
 * malformed headers, and those are what is being tested. `head` lines are joined with CRLF.
 */
export function sendRaw(url: string, head: string[], options: { from?: string; body?: string } = {}): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), localAddress: options.from ?? '127.0.0.1' });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const [headText, ...rest] = raw.split('\r\n\r\n');
      const [statusLine, ...headerLines] = headText.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve(reply(Number(statusLine.split(' ')[1] ?? 0), headers, dechunk(rest.join('\r\n\r\n'), headers)));
    });
    const body = options.body ?? '';
    const lines = [...head, 'Connection: close', ...(body ? [`Content-Length: ${Buffer.byteLength(body)}`] : [])];
    // write, not end: Node drops a response still pending when the client half-closes.
    socket.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1'));
  });
}

function dechunk(body: string, headers: Record<string, string>): string {
  if (headers['transfer-encoding'] !== 'chunked') return body;
  let text = '';
  let rest = body;
  for (;;) {
    const newline = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, newline), 16);
    if (!size) return text;
    text += rest.slice(newline + 2, newline + 2 + size);
    rest = rest.slice(newline + 2 + size + 2);
  }
}

function reply(status: number, headers: Reply['headers'], text: string): Reply {
  let json: Reply['json'];
  try {
    json = JSON.parse(text) as Reply['json'];
  } catch {
    json = undefined;
  }
  return { status, headers, text, json };
}
