import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's parser refusals that have a status of their own; anything else it cannot parse is a 400. */
const ANSWERS: Record<string, { status: number; error: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    error: 'Request Header Fields Too Large',
    message: 'the request headers are larger than 16 KiB in all; send fewer or shorter headers',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    error: 'Request Timeout',
    message: 'the request took longer than the server allows (HTTP_HEADERS_TIMEOUT_S, HTTP_REQUEST_TIMEOUT_S); send it again, faster',
  },
};

/**
 * What Node refuses before any route runs (over-long headers, a request that is not HTTP, a
 * stalled one) gets the API's error body, like every other 4xx, instead of a bare status line.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const answer = ANSWERS[error.code ?? ''] ?? {
      status: 400,
      error: 'Bad Request',
      message: `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'}); check its request line and headers`,
    };
    const body = JSON.stringify({ statusCode: answer.status, error: answer.error, message: answer.message });
    socket.end(
      `HTTP/1.1 ${answer.status} ${answer.error}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
