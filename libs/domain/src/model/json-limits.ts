/** How deep and how big a user's JSON object (job config, submission metadata) may be. */
export const JSON_LIMITS = { maxDepth: 32, maxBytes: 64 * 1024 } as const;

/** Keys that a naive merge or property walk turns into prototype writes; refused outright. */
export const FORBIDDEN_JSON_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/**
 * Nesting depth of a JSON value ({} is 1, a scalar 0), walked iteratively so that a hostile
 * value thousands of levels deep cannot overflow the stack. Stops counting past `stopAfter`.
 */
export function jsonDepth(value: unknown, stopAfter = Infinity): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (item === null || typeof item !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > stopAfter) return deepest;
    for (const child of Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/**
 * Why `value` may not be used as the JSON object named `field`, or null when it may: it must be
 * an object (not an array), at most JSON_LIMITS.maxDepth deep, and use none of
 * FORBIDDEN_JSON_KEYS. Walked iteratively, so it is safe before anything recursive runs.
 */
export function jsonShapeProblem(field: string, value: unknown, maxDepth: number = JSON_LIMITS.maxDepth): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `${field} must be a JSON object, like {"lr": 0.01}`;
  }
  if (jsonDepth(value, maxDepth) > maxDepth) return `${field} nests deeper than ${maxDepth} levels; flatten it`;
  const forbidden = forbiddenKeyPath(value);
  if (forbidden) return `${field} uses the key "${forbidden}", which is not allowed (${FORBIDDEN_JSON_KEYS.join(', ')})`;
  return null;
}

/** jsonShapeProblem, and at most JSON_LIMITS.maxBytes serialized: for what users send in a request. */
export function jsonObjectProblem(field: string, value: unknown): string | null {
  const shape = jsonShapeProblem(field, value);
  if (shape) return shape;
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  if (bytes > JSON_LIMITS.maxBytes) {
    return `${field} is ${bytes} bytes as JSON; at most ${JSON_LIMITS.maxBytes} (${JSON_LIMITS.maxBytes / 1024} KiB) are allowed`;
  }
  return null;
}

/** The dotted path of the first forbidden key anywhere in `value`, or null. */
function forbiddenKeyPath(value: object): string | null {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [item, path] = stack.pop() as [unknown, string];
    if (item === null || typeof item !== 'object') continue;
    for (const key of Object.keys(item)) {
      const keyPath = path ? `${path}.${key}` : key;
      if ((FORBIDDEN_JSON_KEYS as readonly string[]).includes(key)) return keyPath;
      stack.push([(item as Record<string, unknown>)[key], keyPath]);
    }
  }
  return null;
}
