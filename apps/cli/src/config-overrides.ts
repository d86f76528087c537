import { parse as parseYaml } from 'yaml';
import { usageError } from './exit-codes';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Tree = { [key: string]: unknown };

/** `--set a.b=1 --set a.c=true --set name=x` -> {a: {b: 1, c: true}, name: 'x'}; values are YAML scalars. */
export function configFromOverrides(assignments: string[]): Tree | undefined {
  if (assignments.length === 0) return undefined;
  const config: Tree = {};
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw usageError(`--set "${assignment}": write key=value (e.g. --set model.lr=0.01)`);
    const keys = assignment.slice(0, equals).trim().split('.');
    if (keys.some((key) => key.trim() === '')) throw usageError(`--set "${assignment}": a key path has an empty part`);
    const forbidden = keys.find((key) => FORBIDDEN_KEYS.has(key));
    if (forbidden) throw usageError(`--set "${assignment}": "${forbidden}" is not allowed as a key`);
    const value = yamlValue(assignment, assignment.slice(equals + 1));
    let node = config;
    for (const [depth, key] of keys.slice(0, -1).entries()) {
      const next = node[key];
      if (next === undefined) node = node[key] = {};
      else if (isTree(next)) node = next;
      else throw usageError(`--set "${assignment}": ${keys.slice(0, depth + 1).join('.')} was already set to a value, not a mapping`);
    }
    const last = keys[keys.length - 1];
    if (isTree(node[last]) && !isTree(value)) throw usageError(`--set "${assignment}": ${keys.join('.')} already holds keys set by another --set`);
    node[last] = value;
  }
  return config;
}

/** An empty value is the empty string (YAML would read it as null; write `null` for that). */
function yamlValue(assignment: string, text: string): unknown {
  if (text.trim() === '') return '';
  try {
    return parseYaml(text);
  } catch (error) {
    throw usageError(`--set "${assignment}": the value is not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
