import { HttpException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { Invalid } from '@app/domain';

/** A Basic login stays encoded until a route that takes it (Bull Board) decodes it with basicLogin. */
export type Credentials = { scheme: 'bearer'; token: string } | { scheme: 'basic'; encoded: string };

/** What a login asserts: a token, and for a Basic login the user it claims to belong to. */
export interface Login {
  token: string;
  userId?: string;
}

/** Far above any real token; a longer header is an attack on the parser, not a login. */
export const MAX_AUTHORIZATION_BYTES = 4096;

const HOW = 'send "Authorization: Bearer <your token>" (Bull Board also takes "Basic <base64 of user:token>")';

/**
 * The one set of credentials a request carries, or undefined when it has no Authorization header.
 * Anything ambiguous is refused (400) rather than guessed at: Node keeps only the first of two
 * Authorization headers in `request.headers`, so duplicates are counted in `rawHeaders`.
 */
export function readCredentials(request: IncomingMessage): Credentials | undefined {
  const values = headerValues(request, 'authorization');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new Invalid([`send one Authorization header, not ${values.length}; ${HOW}`]);
  const value = values[0];
  if (Buffer.byteLength(value, 'latin1') > MAX_AUTHORIZATION_BYTES) {
    throw new HttpException(`the Authorization header is longer than ${MAX_AUTHORIZATION_BYTES} bytes; ${HOW}`, 431);
  }
  if (value === '') throw new Invalid([`the Authorization header is empty; ${HOW}`]);
  if (value.includes(',')) throw new Invalid([`the Authorization header holds more than one credential (a comma); ${HOW}`]);
  if (/\s\s|\t|^\s|\s$/.test(value)) {
    throw new Invalid([`the Authorization header must be a scheme, one space and the credentials, with no other whitespace; ${HOW}`]);
  }
  const parts = value.split(' ');
  if (parts.length === 1) throw new Invalid([`the Authorization header has no scheme or no credentials; ${HOW}`]);
  if (parts.length > 2) throw new Invalid([`the Authorization header holds more than one credential; ${HOW}`]);
  const [scheme, credentials] = parts;
  if (!/^[\x21-\x7e]+$/.test(credentials)) {
    throw new Invalid([`the Authorization credentials may only hold visible ASCII characters; ${HOW}`]);
  }
  switch (scheme.toLowerCase()) {
    case 'bearer':
      return { scheme: 'bearer', token: credentials };
    case 'basic':
      return { scheme: 'basic', encoded: credentials };
    default:
      throw new Invalid([`the Authorization scheme must be Bearer or Basic; ${HOW}`]);
  }
}

/** Every value of header `name` (lower case) as sent, however its name was spelled. */
export function headerValues(request: IncomingMessage, name: string): string[] {
  const values: string[] = [];
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    if (request.rawHeaders[index].toLowerCase() === name) values.push(request.rawHeaders[index + 1]);
  }
  return values;
}

/** The user and token of a Basic login; 400 when it is not the base64 of "user:token". */
export function basicLogin(encoded: string): Login {
  const problem = new Invalid([`Basic credentials must be the base64 of "user:token"; ${HOW}`]);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) throw problem;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  // U+FFFD marks bytes that were not UTF-8; control characters have no place in a name or token.
  if (separator < 1 || /[\u0000-\u001f\u007f\ufffd]/.test(decoded)) throw problem;
  return { userId: decoded.slice(0, separator), token: decoded.slice(separator + 1) };
}
