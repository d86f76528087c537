import * as net from 'node:net';
import { Readable } from 'node:stream';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * One HTTP/1.1 request written byte for byte to a unix socket or TCP port: Node's own client
 * would refuse or normalise the hostile targets and headers the relay must see as sent.
 * The body may be a stream (sent as it is produced, never held whole).
 */
export function rawRequest(
  where: { socketPath: string } | { port: number },
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: string | Buffer | Readable } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = 'socketPath' in where ? net.connect(where.socketPath) : net.connect(where.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The answer may already be in; a reset after it (the relay stops reading) is not a failure.
      const answer = parse(Buffer.concat(chunks));
      if (answer) resolve(answer);
      else reject(error);
    });
    socket.on('close', () => {
      const answer = parse(Buffer.concat(chunks));
      if (answer) resolve(answer);
      else reject(new Error(`no HTTP answer to ${method} ${target} (${chunks.length} chunks)`));
    });
    const body = options.body;
    const headers: Record<string, string> = { host: 'mlflow.local', connection: 'close', ...options.headers };
    if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] ??= String(Buffer.byteLength(body));
    const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n`;
    // No half-close after the request: Node's server would drop a request still in flight.
    socket.write(head, 'latin1');
    if (body instanceof Readable) {
      body.pipe(socket, { end: false });
      socket.on('close', () => body.destroy());
    } else if (body !== undefined) {
      socket.write(body);
    }
  });
}

function parse(raw: Buffer): RawAnswer | undefined {
  // Skip interim answers (100 Continue).
  while (/^HTTP\/1\.[01] 1\d\d /.test(raw.subarray(0, 13).toString('latin1')) && raw.indexOf('\r\n\r\n') >= 0) {
    raw = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
  }
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
  if (!status) return undefined;
  const headers = Object.fromEntries(lines.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status, headers, text: body.toString('utf8') };
}

function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!size) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** `size` bytes of `fill`, produced 64 KiB at a time. */
export function streamOf(size: number, fill = 'a'): Readable {
  const chunk = Buffer.alloc(64 * 1024, fill);
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const next = chunk.subarray(0, Math.min(left, chunk.length));
      left -= next.length;
      this.push(next);
    },
  });
}

/** A TCP port piping each connection to a unix socket, like the launcher's forwarder in the sandbox. */
export async function tcpToUnix(socketPath: string): Promise<{ port: number; close: () => Promise<void> }> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    open.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const done = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  return {
    port,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
