import { RANK_ORDERS, RankOrder, ScorerLimits } from '@app/domain';
import { parseDocument } from 'yaml';

/** What benchmark.yaml holds, defaults filled in. */
export interface BenchmarkSettings {
  title: string;
  description: string;
  metric: string;
  order: RankOrder;
  secondary: string[];
  scorer: ScorerLimits;
}

const KEYS = ['title', 'description', 'metric', 'order', 'secondary', 'scorer'];
const SCORER_KEYS = ['timeout_s', 'memory_mb'];
const DEFAULT_LIMITS: ScorerLimits = { timeoutSeconds: 300, memoryMb: 1024 };
/** Metric names become MLflow keys (`leaderboard.<name>`), so they keep to the characters MLflow takes. */
const METRIC_NAME = /^[A-Za-z0-9_\-. :/]{1,200}$/;

type Mapping = Record<string, unknown>;

/**
 * Reads benchmark.yaml strictly: one YAML document, no duplicate keys, no unknown keys, every type
 * checked. Returns the settings, or every problem found, each worded to follow "benchmark.yaml: ".
 */
export function parseBenchmarkYaml(text: string): { settings: BenchmarkSettings } | { problems: string[] } {
  const document = parseDocument(text, { uniqueKeys: true });
  const failure = document.errors[0] ?? document.warnings[0];
  if (failure) return { problems: [yamlProblem(failure)] };
  let value: unknown;
  try {
    value = document.toJS();
  } catch (error) {
    // An alias to an anchor that does not exist, or too many aliases, only shows up here.
    return { problems: [yamlProblem(error as Error)] };
  }
  if (value === null || value === undefined) return { problems: ['empty; it needs title, description, metric and order'] };
  if (!isMapping(value)) return { problems: ['the top level must be a mapping (key: value)'] };

  const problems = unknownKeys(value, KEYS, '');
  const title = requiredText(value, 'title', problems);
  const description = requiredText(value, 'description', problems);
  const metric = metricName(value.metric, 'metric', problems);
  const order = rankOrder(value.order, problems);
  const secondary = secondaryNames(value.secondary, problems);
  const scorer = scorerLimits(value.scorer, problems);
  if (problems.length > 0) return { problems };
  return { settings: { title, description, metric, order, secondary, scorer } };
}

/** The parser's first line ("... at line 3, column 1"), without its advice to the library's user. */
function yamlProblem(error: Error): string {
  const line = error.message.split('\n')[0].replace(/:$/, '').replace('; please use YAML.parseAllDocuments()', '');
  return `not valid YAML: ${line}`;
}

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && !Buffer.isBuffer(value);
}

function unknownKeys(value: Mapping, known: string[], parent: string): string[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => `unknown key "${parent}${key}" (known: ${known.map((name) => parent + name).join(', ')})`);
}

function requiredText(value: Mapping, key: string, problems: string[]): string {
  const text = value[key];
  if (text === undefined || text === null) problems.push(`${key} is missing`);
  else if (typeof text !== 'string' || text.trim() === '') problems.push(`${key} must be a non-empty string`);
  else return text.trim();
  return '';
}

function metricName(name: unknown, key: string, problems: string[]): string {
  if (name === undefined || name === null) problems.push(`${key} is missing`);
  else if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    problems.push(`${key} must be a metric name of 1 to 200 letters, digits, _ - . : / or spaces, got ${describe(name)}`);
  } else return name;
  return '';
}

function rankOrder(order: unknown, problems: string[]): RankOrder {
  if (order === undefined || order === null) problems.push('order is missing (asc or desc)');
  else if (!RANK_ORDERS.includes(order as RankOrder)) problems.push(`order must be asc or desc, got ${describe(order)}`);
  else return order as RankOrder;
  return 'desc';
}

function secondaryNames(names: unknown, problems: string[]): string[] {
  if (names === undefined || names === null) return [];
  if (!Array.isArray(names)) {
    problems.push(`secondary must be a list of metric names, got ${describe(names)}`);
    return [];
  }
  const valid = names.map((name, index) => metricName(name, `secondary[${index}]`, problems));
  const duplicate = valid.find((name, index) => name !== '' && valid.indexOf(name) !== index);
  if (duplicate !== undefined) problems.push(`secondary names "${duplicate}" twice`);
  return valid;
}

function scorerLimits(scorer: unknown, problems: string[]): ScorerLimits {
  if (scorer === undefined || scorer === null) return { ...DEFAULT_LIMITS };
  if (!isMapping(scorer)) {
    problems.push(`scorer must be a mapping with timeout_s and memory_mb, got ${describe(scorer)}`);
    return { ...DEFAULT_LIMITS };
  }
  problems.push(...unknownKeys(scorer, SCORER_KEYS, 'scorer.'));
  return {
    timeoutSeconds: wholeNumber(scorer.timeout_s, 'scorer.timeout_s', 1, 86_400, DEFAULT_LIMITS.timeoutSeconds, problems),
    memoryMb: wholeNumber(scorer.memory_mb, 'scorer.memory_mb', 64, 1_048_576, DEFAULT_LIMITS.memoryMb, problems),
  };
}

function wholeNumber(value: unknown, key: string, min: number, max: number, fallback: number, problems: string[]): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  problems.push(`${key} must be a whole number from ${min} to ${max}, got ${describe(value)}`);
  return fallback;
}

function describe(value: unknown): string {
  if (Buffer.isBuffer(value)) return 'binary data';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  return JSON.stringify(value) ?? String(value);
}
