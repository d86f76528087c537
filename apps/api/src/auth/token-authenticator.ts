import { Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '@app/adapters';
import { Caller } from '@app/domain';

/** Maps bearer tokens to callers. Compares digests in constant time and never stops at the first match. */
@Injectable()
export class TokenAuthenticator {
  private readonly known: { digest: Buffer; caller: Caller }[];

  constructor(config: AppConfig) {
    const admins = new Set(config.adminUsers);
    this.known = config.apiTokens.map(({ userId, token }) => ({
      digest: digest(token),
      caller: new Caller(userId, admins.has(userId)),
    }));
  }

  authenticate(token: string): Caller | undefined {
    const candidate = digest(token);
    let found: Caller | undefined;
    for (const entry of this.known) {
      if (timingSafeEqual(entry.digest, candidate)) found = entry.caller;
    }
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
