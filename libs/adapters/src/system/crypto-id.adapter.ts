import { createHash, randomUUID } from 'node:crypto';
import { IdPort } from '@app/domain';

/** UUIDs: random v4 for submissions, and name-based ones (SHA-256, UUID v8 layout) for jobs. */
export class CryptoIdAdapter extends IdPort {
  random(): string {
    return randomUUID();
  }

  derive(parts: string[]): string {
    // Length-prefixing keeps ["ab","c"] and ["a","bc"] apart.
    const hash = createHash('sha256');
    for (const part of parts) hash.update(`${Buffer.byteLength(part)}:${part}`);
    const hex = hash.digest('hex').slice(0, 32).split('');
    hex[12] = '8';
    hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
    const id = hex.join('');
    return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
  }
}
