import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { headerValues } from './authorization-header';

/**
 * Who a failed login is counted against. Without a trusted proxy that is the socket's peer: a
 * client can write any X-Forwarded-For, so trusting it by default would let an attacker rotate it.
 * Behind a trusted proxy it is the last X-Forwarded-For hop, the one the proxy itself appended;
 * hops before it are the client's own words. IPv6 clients are counted per /64, the block one
 * subscriber usually holds, so walking through addresses of one's own block gains nothing.
 */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const hops = headerValues(request, 'x-forwarded-for').join(',').split(',');
    const last = hops[hops.length - 1].trim();
    if (isIP(last)) return normalize(last);
  }
  return normalize(request.socket.remoteAddress ?? 'unknown');
}

function normalize(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIP(address) !== 6) return address;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [head, tail = ''] = address.split('%')[0].split('::');
  const parts = (text: string) => (text ? text.split(':').flatMap((part) => (part.includes('.') ? ['0', '0'] : [part])) : []);
  const left = parts(head);
  const right = address.includes('::') ? parts(tail) : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((group) => parseInt(group, 16).toString(16));
}
