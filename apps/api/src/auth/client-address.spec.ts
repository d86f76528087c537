import type { IncomingMessage } from 'node:http';
import { clientAddress } from './client-address';

function requestFrom(remoteAddress: string, rawHeaders: string[] = []): IncomingMessage {
  return { socket: { remoteAddress }, rawHeaders } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  it('is the socket peer by default, whatever X-Forwarded-For says', () => {
    expect(clientAddress(requestFrom('192.0.2.10', ['X-Forwarded-For', '10.0.0.1']), false)).toBe('192.0.2.10');
    expect(clientAddress(requestFrom('::ffff:192.0.2.10'), false)).toBe('192.0.2.10');
  });

  it('counts IPv6 clients per /64, however the address is written', () => {
    expect(clientAddress(requestFrom('2001:db8:1:2:aaaa::1'), false)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(requestFrom('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), false)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(requestFrom('2001:db8::7%eth0'), false)).toBe('2001:db8:0:0::/64');
    expect(clientAddress(requestFrom('::1'), false)).toBe('0:0:0:0::/64');
    expect(clientAddress(requestFrom('64:ff9b::192.0.2.1'), false)).toBe('64:ff9b:0:0::/64');
  });

  it('behind a trusted proxy is the last hop of every X-Forwarded-For header, the one the proxy wrote', () => {
    const forged = ['X-Forwarded-For', '1.1.1.1, 2.2.2.2', 'x-forwarded-for', '6.6.6.6, 203.0.113.7'];
    expect(clientAddress(requestFrom('127.0.0.1', forged), true)).toBe('203.0.113.7');
    expect(clientAddress(requestFrom('127.0.0.1', ['X-Forwarded-For', '2001:db8:5:6::9']), true)).toBe('2001:db8:5:6::/64');
  });

  it('falls back to the socket peer when the proxy sent no usable hop', () => {
    expect(clientAddress(requestFrom('127.0.0.1'), true)).toBe('127.0.0.1');
    expect(clientAddress(requestFrom('127.0.0.1', ['X-Forwarded-For', '1.1.1.1, not-an-ip']), true)).toBe('127.0.0.1');
    expect(clientAddress(requestFrom('127.0.0.1', ['X-Forwarded-For', '1.1.1.1,']), true)).toBe('127.0.0.1');
  });
});
