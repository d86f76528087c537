/**
 * The raw request target, taken apart without normalising it. The relay checks what it will
 * forward byte for byte, so any target whose raw form is not the canonical one (`//`, `.`/`..`,
 * `\`, `%2F`, `%2e`, a trailing slash, a fragment, `http://host/...`, an odd query) is refused
 * rather than cleaned up: cleaning up is where the checked and the forwarded request part ways.
 */
export interface RequestTarget {
  /** Raw path segments after the leading `/`. */
  segments: string[];
  /** Decoded query values by key (keys appear once). */
  query: Map<string, string>;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

export function parseRequestTarget(raw: string): Parsed<RequestTarget> {
  if (!raw.startsWith('/')) return fail('the request target must be a path starting with "/" (no http://host/ form)');
  if (!/^[\x21-\x7e]*$/.test(raw)) return fail('the request target holds spaces, control or non-ASCII characters; percent-encode them');
  if (raw.includes('\\')) return fail('the request target holds a backslash');
  if (raw.includes('#')) return fail('the request target holds a fragment ("#")');
  const mark = raw.indexOf('?');
  const path = mark < 0 ? raw : raw.slice(0, mark);
  if (path.length > 1 && path.endsWith('/')) return fail('the path ends with "/"');
  const segments = path === '/' ? [] : path.slice(1).split('/');
  if (segments.some((segment) => segment === '')) return fail('the path holds an empty segment ("//")');
  if (segments.some((segment) => segment === '.' || segment === '..')) return fail('the path holds a "." or ".." segment');
  const query = new Map<string, string>();
  if (mark >= 0) {
    for (const pair of raw.slice(mark + 1).split('&')) {
      const equals = pair.indexOf('=');
      const key = equals < 0 ? pair : pair.slice(0, equals);
      if (!/^[a-z_]+$/.test(key)) return fail(`the query holds a malformed key "${key}"`);
      if (query.has(key)) return fail(`the query names "${key}" twice`);
      const rawValue = equals < 0 ? '' : pair.slice(equals + 1);
      const value = decodeQueryValue(rawValue);
      if (value === undefined || quotePlus(value) !== rawValue) {
        return fail(`the query value of "${key}" is not canonically encoded (expected Python's urlencode form)`);
      }
      query.set(key, value);
    }
  }
  return { ok: true, value: { segments, query } };
}

/**
 * One artifact path segment, decoded once and validated: what MLflow will see as a file or folder
 * name. It must re-encode to exactly the raw text, so the raw and decoded paths name the same file.
 */
export function decodeArtifactSegment(raw: string): Parsed<string> {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return fail(`artifact path segment "${raw}" is not valid percent-encoded UTF-8`);
  }
  if (name === '' || name === '.' || name === '..') return fail(`artifact path segment "${raw}" is empty, "." or ".."`);
  if (/[/\\\x00-\x1f\x7f]/.test(name)) return fail(`artifact path segment "${raw}" holds "/", "\\" or a control character`);
  // MLflow decodes artifact paths until they stop changing: a "%" left after our one decode
  // would name a different file there than the one checked here.
  if (/[%#]/.test(name)) return fail(`artifact path segment "${raw}" decodes to a name with "%" or "#", which MLflow would decode again`);
  if (Buffer.byteLength(name) > 255) return fail(`artifact path segment "${raw.slice(0, 40)}…" is longer than 255 bytes`);
  if (encodePathSegment(name) !== raw) {
    return fail(`artifact path segment "${raw}" is not canonically encoded (expected "${encodePathSegment(name)}")`);
  }
  return { ok: true, value: name };
}

/** How MLflow's client (requests' requote_uri) writes a path segment: these stay, the rest is %XX. */
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@[\]]/;

export function encodePathSegment(name: string): string {
  return percentEncode(name, (char) => PATH_SAFE.test(char));
}

/** Python's urllib.parse.quote_plus: what requests does to query values. */
export function quotePlus(value: string): string {
  return percentEncode(value, (char) => /[A-Za-z0-9\-._~]/.test(char)).replace(/%20/g, '+');
}

function percentEncode(text: string, keep: (char: string) => boolean): string {
  let out = '';
  for (const char of text) {
    if (keep(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decodeQueryValue(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
