import * as net from 'node:net';

/** One part of a multipart/form-data body; `filenameHeader` replaces the whole `filename=` parameter, raw bytes allowed. */
export interface Part {
  name: string;
  content: Buffer | string;
  filename?: string;
  filenameHeader?: Buffer;
}

/** A multipart body built byte for byte, so tests can send names no HTTP client would write. */
export function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const boundary = `----lb-test-${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filenameHeader ?? (part.filename !== undefined ? Buffer.from(`filename="${part.filename}"`, 'utf8') : undefined);
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`, 'utf8'));
    if (filename) chunks.push(Buffer.from('; '), filename, Buffer.from('\r\nContent-Type: application/octet-stream'));
    chunks.push(Buffer.from('\r\n\r\n'), Buffer.from(part.content), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  json: { statusCode?: number; message?: string; details?: string[] } | undefined;
}

/** An upload on a bare socket that the test drives: it can stall, trickle and finish at will. */
export class RawUpload {
  /** The response, or status 0 when the server closed the connection without one. */
  readonly reply: Promise<RawReply>;
  readonly closed: Promise<void>;
  private readonly socket: net.Socket;

  constructor(url: string, token: string, form: { body: Buffer; contentType: string }, options: { chunked?: boolean; contentLength?: number; keepOpen?: boolean } = {}) {
    const { hostname, port } = new URL(url);
    // keepOpen: the socket does not even answer the server's FIN with its own, as an attacker would not.
    this.socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: options.keepOpen ?? false });
    this.socket.on('error', () => undefined);
    const received: Buffer[] = [];
    let answered: (reply: RawReply) => void = () => undefined;
    const complete = new Promise<RawReply>((resolve) => (answered = resolve));
    this.socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      // A whole response is enough: hang up like a client that has its answer (unless told to linger, as an attacker would).
      if (isComplete(Buffer.concat(received))) {
        answered(parse(Buffer.concat(received)));
        if (!options.keepOpen) this.socket.end();
      }
    });
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
    this.reply = Promise.race([complete, this.closed.then(() => parse(Buffer.concat(received)))]);
    const length = options.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${options.contentLength ?? form.body.length}`;
    this.chunked = options.chunked ?? false;
    this.socket.write(
      `POST /submissions HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${form.contentType}\r\n${length}\r\nConnection: close\r\n\r\n`,
    );
  }

  private readonly chunked: boolean;

  send(bytes: Buffer): void {
    if (this.socket.destroyed) return;
    if (this.chunked) this.socket.write(`${bytes.length.toString(16)}\r\n`);
    this.socket.write(bytes);
    if (this.chunked) this.socket.write('\r\n');
  }

  /** Sends the rest and the chunked terminator; the server answers and closes (Connection: close). */
  finish(bytes: Buffer = Buffer.alloc(0)): Promise<RawReply> {
    if (bytes.length > 0) this.send(bytes);
    if (this.chunked && !this.socket.destroyed) this.socket.write('0\r\n\r\n');
    return this.reply;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function isComplete(raw: Buffer): boolean {
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return false;
  const head = text.slice(0, split).toLowerCase();
  const length = /\r\ncontent-length: *(\d+)/.exec(head);
  if (length) return raw.length - (split + 4) >= Number(length[1]);
  return /\r\ntransfer-encoding: *chunked/.test(head) && text.endsWith('\r\n0\r\n\r\n');
}

function parse(raw: Buffer): RawReply {
  // latin1 keeps one character per byte, so chunk sizes can be counted on the text.
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  if (!text.startsWith('HTTP/') || split < 0) return { status: 0, headers: {}, json: undefined };
  const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  let body = text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let joined = '';
    for (;;) {
      const newline = body.indexOf('\r\n');
      const size = parseInt(body.slice(0, newline), 16);
      if (!size) break;
      joined += body.slice(newline + 2, newline + 2 + size);
      body = body.slice(newline + 2 + size + 2);
    }
    body = joined;
  }
  let json: RawReply['json'];
  try {
    json = JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) as RawReply['json'];
  } catch {
    json = undefined;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, json };
}
