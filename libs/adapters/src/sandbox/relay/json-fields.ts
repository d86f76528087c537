import { JsonObject, JsonValue } from '../../support/strict-json';

/** snake_case and protobuf's lowerCamelCase (and any other casing) compare equal. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/_/g, '');
}

/** A field by name in any spelling normalizeKey folds together. */
export function fieldOf(object: JsonObject, name: string): JsonValue | undefined {
  const wanted = normalizeKey(name);
  const found = Object.keys(object).find((key) => normalizeKey(key) === wanted);
  return found === undefined ? undefined : object[found];
}
