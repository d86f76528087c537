import type { Response } from 'express';

/** How long a refused upload's remaining bytes are read and dropped before the socket is closed. */
const LINGER_MS = 2000;

/**
 * Closes the connection once an early error response (413, 429) is out, without losing it. The
 * client may still be sending its body; closing at once would leave unread bytes in the kernel,
 * which then answers with a reset that can destroy the response before the client reads it. So,
 * as nginx's lingering close does, the socket is half-closed and what still arrives is dropped
 * for a moment, until the client hangs up or LINGER_MS pass. Nothing more is stored either way.
 */
export function closeAfterResponse(response: Response): void {
  if (response.headersSent) return;
  response.setHeader('Connection', 'close');
  const socket = response.req.socket;
  // Node calls destroySoon() for a "Connection: close" response once it is written.
  socket.destroySoon = () => {
    socket.end();
    socket.resume();
    socket.once('end', () => socket.destroy());
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}
