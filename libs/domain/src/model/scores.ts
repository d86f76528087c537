/** Official scores of a job: what its benchmark's scorer wrote, metric name to finite number. */
export type Scores = Record<string, number>;

const MAX_SCORES = 100;
const MAX_NAME_LENGTH = 250;

/**
 * Reads a scorer's scores.json. Returns the scores, or the one line that says what is wrong with
 * it: not JSON, not a flat object of finite numbers, or without the benchmark's metric.
 */
export function parseScores(text: string, metric: string): { scores: Scores } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `scores.json is not valid JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: 'scores.json must be a JSON object of metric names to numbers' };
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_SCORES) return { problem: `scores.json holds ${entries.length} metrics; at most ${MAX_SCORES}` };
  const scores: Scores = {};
  for (const [name, score] of entries) {
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) return { problem: `scores.json has a metric name of ${name.length} characters; 1 to ${MAX_NAME_LENGTH}` };
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      return { problem: `scores.json: ${JSON.stringify(name)} must be a finite number, got ${JSON.stringify(score) ?? String(score)}` };
    }
    scores[name] = score;
  }
  if (!(metric in scores)) return { problem: `scores.json has no ${JSON.stringify(metric)}, the benchmark's metric` };
  return { scores };
}
