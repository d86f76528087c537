import { JsonObject } from './job';

/** Merges `override` into `base`: objects merge key by key, anything else (arrays too) is replaced. */
export function deepMerge(base: JsonObject, override: JsonObject): JsonObject {
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return merged;
}

/** Flattens nested config into dotted keys, the way it is logged as tracking params. */
export function flattenConfig(config: JsonObject, prefix = ''): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isObject(value)) Object.assign(flat, flattenConfig(value, name));
    else flat[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return flat;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
