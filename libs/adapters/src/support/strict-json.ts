/**
 * A JSON reader for request bodies that are checked and then acted on (the relay forwards them;
 * the API reads POST /jobs with JSON.parse only after this found no duplicate key). JSON.parse would silently
 * keep the last of two equal keys while another reader may keep the first, so the checker and
 * MLflow could disagree about which run a body names: duplicates are refused here. Numbers keep
 * their text, so re-serializing forwards exactly the value that was checked (int64 steps and
 * timestamps beyond 2^53 included).
 */
export type JsonValue = string | boolean | null | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A number as written in the request. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export class JsonSyntaxError extends Error {}

const DEFAULT_MAX_DEPTH = 32;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Parses one JSON document; throws JsonSyntaxError with a short reason. */
export function parseStrictJson(text: string, maxDepth = DEFAULT_MAX_DEPTH): JsonValue {
  let at = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at character ${at}`);
  };
  const space = () => {
    while (at < text.length && (text[at] === ' ' || text[at] === '\t' || text[at] === '\n' || text[at] === '\r')) at += 1;
  };
  const string = (): string => {
    at += 1; // opening quote
    let out = '';
    for (;;) {
      const char = text[at];
      if (char === undefined) fail('unterminated string');
      if (char === '"') {
        at += 1;
        return out;
      }
      if (char < ' ') fail('control character in a string');
      if (char !== '\\') {
        out += char;
        at += 1;
        continue;
      }
      const escape = text[at + 1];
      if (escape === 'u') {
        const hex = text.slice(at + 2, at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        at += 6;
      } else if (escape !== undefined && escape in ESCAPES) {
        out += ESCAPES[escape];
        at += 2;
      } else {
        fail('bad escape');
      }
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > maxDepth) fail(`nested deeper than ${maxDepth}`);
    space();
    const char = text[at];
    if (char === '{') {
      at += 1;
      const object: JsonObject = Object.create(null) as JsonObject;
      space();
      if (text[at] === '}') {
        at += 1;
        return object;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail('expected a key');
        const key = string();
        if (Object.prototype.hasOwnProperty.call(object, key)) fail(`duplicate key "${key}"`);
        space();
        if (text[at] !== ':') fail('expected ":"');
        at += 1;
        object[key] = value(depth + 1);
        space();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === '}') {
          at += 1;
          return object;
        }
        fail('expected "," or "}"');
      }
    }
    if (char === '[') {
      at += 1;
      const array: JsonValue[] = [];
      space();
      if (text[at] === ']') {
        at += 1;
        return array;
      }
      for (;;) {
        array.push(value(depth + 1));
        space();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === ']') {
          at += 1;
          return array;
        }
        fail('expected "," or "]"');
      }
    }
    if (char === '"') return string();
    for (const [word, result] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return result;
      }
    }
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (!number) fail('unexpected token');
    at += number![0].length;
    return new JsonNumber(number![0]);
  };
  const result = value(0);
  space();
  if (at !== text.length) fail('trailing data');
  return result;
}

/** Serializes what parseStrictJson returned; numbers come out exactly as they came in. */
export function stringifyJson(value: JsonValue): string {
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(stringifyJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((key) => `${JSON.stringify(key)}:${stringifyJson(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof JsonNumber);
}
