/** Tags the platform writes on every job's run: who ran it and what. Only the trusted side sets them. */
export const PLATFORM_RUN_TAGS = ['user_id', 'submission_id', 'job_id'] as const;
export type PlatformRunTags = Record<(typeof PLATFORM_RUN_TAGS)[number], string>;

/**
 * MLflow's own tags that name another run or a person: a job setting them could show its run as
 * the child of another user's run, or as someone else's, in the MLflow UI.
 */
export const PROTECTED_MLFLOW_TAGS = ['mlflow.parentRunId', 'mlflow.rootRunId', 'mlflow.user'] as const;

/** Metric, param and tag keys under this prefix are official results, written by the platform alone. */
export const RESERVED_KEY_PREFIX = 'leaderboard.';

/**
 * Whether code in the sandbox is refused this key. Compared without case or white space, so a key
 * that only looks like a reserved one in the MLflow UI (" User_ID", "Leaderboard.auc") is refused too.
 */
export function isReservedRunKey(kind: 'metric' | 'param' | 'tag', key: string): boolean {
  const plain = key.replace(/\s+/g, '').toLowerCase();
  if (plain.startsWith(RESERVED_KEY_PREFIX)) return true;
  const tags: readonly string[] = [...PLATFORM_RUN_TAGS, ...PROTECTED_MLFLOW_TAGS];
  return kind === 'tag' && tags.some((tag) => tag.toLowerCase() === plain);
}
