import { Invalid } from '../errors/domain-errors';
import { JsonObject } from './job';
import { jsonShapeProblem } from './json-limits';

/**
 * Merges `override` into `base`: objects merge key by key, anything else (arrays too) is replaced.
 * Both are checked first (depth, prototype keys), so the recursion below is bounded.
 */
export function deepMerge(base: JsonObject, override: JsonObject): JsonObject {
  const problems = [jsonShapeProblem('the config file', base), jsonShapeProblem('config', override)].filter(
    (problem): problem is string => problem !== null,
  );
  if (problems.length > 0) throw new Invalid(problems);
  return merge(base, override);
}

function merge(base: JsonObject, override: JsonObject): JsonObject {
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isObject(current) && isObject(value) ? merge(current, value) : value;
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
