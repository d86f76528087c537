import { Invalid, JsonObject } from '@app/domain';
import { parse as parseYaml } from 'yaml';

/** A submission's config file as an object: JSON for .json, YAML otherwise; empty means {}. */
export function parseConfig(name: string, text: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = name.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new Invalid([`config file "${name}" cannot be parsed: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Invalid([`config file "${name}" must hold a mapping (key: value) at the top level`]);
  }
  return parsed as JsonObject;
}
