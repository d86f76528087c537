import { Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '@app/adapters';
import { Caller } from '@app/domain';

/**
 * Maps tokens (and, for Basic logins, user + token) to callers. Compares digests in constant time,
 * checks every entry and never stops at the first match, so timing tells neither which part was
 * wrong nor whether a user name exists.
 */
@Injectable()
export class TokenAuthenticator {
  private readonly known: { tokenDigest: Buffer; userDigest: Buffer; caller: Caller }[];

  constructor(config: AppConfig) {
    const admins = new Set(config.adminUsers);
    this.known = config.apiTokens.map(({ userId, token }) => ({
      tokenDigest: digest(token),
      userDigest: digest(userId),
      caller: new Caller(userId, admins.has(userId)),
    }));
  }

  /** The caller holding `token`; with `userId` (a Basic login) only if the token is that user's. */
  authenticate(token: string, userId?: string): Caller | undefined {
    const tokenDigest = digest(token);
    const userDigest = digest(userId ?? '');
    let found: Caller | undefined;
    for (const entry of this.known) {
      const tokenMatches = timingSafeEqual(entry.tokenDigest, tokenDigest);
      const userMatches = userId === undefined || timingSafeEqual(entry.userDigest, userDigest);
      if (tokenMatches && userMatches) found = entry.caller;
    }
    return found;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
