import { isReservedRunKey, PLATFORM_RUN_TAGS, PROTECTED_MLFLOW_TAGS, RESERVED_KEY_PREFIX } from '@app/domain';
import { isJsonObject, JsonObject, JsonValue } from '../../support/strict-json';
import { fieldOf } from './json-fields';

type KeyKind = 'metric' | 'param' | 'tag';

/** Calls that write one key, and what kind of key it is. */
const SINGLE_KEY: Record<string, KeyKind> = {
  'runs/log-metric': 'metric',
  'runs/log-parameter': 'param',
  'runs/set-tag': 'tag',
  'runs/delete-tag': 'tag',
};
/** log-batch's lists, each of `{key, ...}`. */
const BATCH_LISTS: Record<string, KeyKind> = { metrics: 'metric', params: 'param', tags: 'tag' };

/**
 * A job may write any key to its own run but the platform's: its tags (who ran the job) and the
 * official `leaderboard.` results. Without this a job could sign its run as another user in MLflow.
 */
export function reservedKeyProblem(call: string, endpoint: string, body: JsonObject): string | undefined {
  const keys: [KeyKind, JsonValue | undefined][] = [];
  const single = SINGLE_KEY[endpoint];
  if (single) keys.push([single, fieldOf(body, 'key')]);
  if (endpoint === 'runs/log-batch') {
    for (const [list, kind] of Object.entries(BATCH_LISTS)) {
      const items = fieldOf(body, list);
      if (Array.isArray(items)) for (const item of items) if (isJsonObject(item)) keys.push([kind, fieldOf(item, 'key')]);
    }
  }
  for (const [kind, key] of keys) {
    if (typeof key === 'string' && isReservedRunKey(kind, key)) {
      return `${call}: the ${kind} "${key}" is reserved for the platform (its tags ${[...PLATFORM_RUN_TAGS, ...PROTECTED_MLFLOW_TAGS].join(', ')} and every "${RESERVED_KEY_PREFIX}" key); log under another name`;
    }
  }
  return undefined;
}
