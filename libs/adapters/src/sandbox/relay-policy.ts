import { decodeArtifactSegment, parseRequestTarget, RequestTarget } from './relay/request-target';
import { fieldOf, normalizeKey } from './relay/json-fields';
import { reservedKeyProblem } from './relay/reserved-keys';
import { isJsonObject, JsonValue } from '../support/strict-json';

/** What a job may touch in MLflow: its own run, its experiment read-only, and models it logged. */
export interface RelayScope {
  runId: string;
  experimentId: string;
  /** Logged models this job created through the relay (learned from MLflow's answers). */
  modelIds: Set<string>;
}

/**
 * A request the relay will forward. `json`: a body to read whole, check with checkJsonBody and
 * re-serialize; `read`: no body at all; `upload`: an artifact streamed through and counted.
 */
export type RelayRoute =
  | { kind: 'json'; call: string; endpoint: string; fields: readonly string[]; names: Names; pathModel?: string }
  | { kind: 'read'; call: string }
  | { kind: 'upload'; call: string };

export type Routing = { ok: true; route: RelayRoute } | { ok: false; reason: string };

/** Which of the job's own things a call must name. */
type Names = 'run' | 'model' | 'new-model';

interface JsonCall {
  method: 'POST' | 'PATCH';
  /** Under /api/2.0/mlflow/; `{model}` is a logged-model id the job created. */
  path: string;
  fields: string[];
  names: Names;
}
interface ReadCall {
  path: string;
  query: string[];
  names: 'run' | 'experiment' | 'model';
}

/**
 * The calls mlflow-skinny 3.x makes for start_run (attaching through MLFLOW_RUN_ID), log_metric(s),
 * log_param(s), set_tag(s), delete_tag, log_input, log_dict/text/artifact(s)/figure, log_model
 * (MLflow 3 logged models) and end_run, recorded from a real job. Nothing else is forwarded.
 */
const JSON_CALLS: JsonCall[] = [
  { method: 'POST', path: 'runs/update', fields: ['run_id', 'run_uuid', 'status', 'end_time', 'run_name'], names: 'run' },
  {
    method: 'POST',
    path: 'runs/log-metric',
    fields: ['run_id', 'run_uuid', 'key', 'value', 'timestamp', 'step', 'model_id', 'dataset_name', 'dataset_digest'],
    names: 'run',
  },
  { method: 'POST', path: 'runs/log-parameter', fields: ['run_id', 'run_uuid', 'key', 'value'], names: 'run' },
  { method: 'POST', path: 'runs/set-tag', fields: ['run_id', 'run_uuid', 'key', 'value'], names: 'run' },
  { method: 'POST', path: 'runs/delete-tag', fields: ['run_id', 'key'], names: 'run' },
  { method: 'POST', path: 'runs/log-batch', fields: ['run_id', 'metrics', 'params', 'tags'], names: 'run' },
  { method: 'POST', path: 'runs/log-inputs', fields: ['run_id', 'datasets', 'models'], names: 'run' },
  { method: 'POST', path: 'runs/outputs', fields: ['run_id', 'models'], names: 'run' },
  {
    method: 'POST',
    path: 'logged-models',
    fields: ['experiment_id', 'name', 'model_type', 'source_run_id', 'params', 'tags'],
    names: 'new-model',
  },
  { method: 'PATCH', path: 'logged-models/{model}', fields: ['model_id', 'status'], names: 'model' },
  { method: 'PATCH', path: 'logged-models/{model}/tags', fields: ['model_id', 'tags'], names: 'model' },
  { method: 'POST', path: 'logged-models/{model}/params', fields: ['model_id', 'params'], names: 'model' },
];

/** GET calls: parameters in the query (MLflow reads only the snake_case names there), no body. */
const READ_CALLS: ReadCall[] = [
  { path: 'runs/get', query: ['run_id', 'run_uuid'], names: 'run' },
  { path: 'metrics/get-history', query: ['run_id', 'run_uuid', 'metric_key', 'page_token', 'max_results'], names: 'run' },
  { path: 'experiments/get', query: ['experiment_id'], names: 'experiment' },
  { path: 'logged-models/{model}', query: [], names: 'model' },
];

const API = ['api', '2.0', 'mlflow'];
const ARTIFACTS = ['api', '2.0', 'mlflow-artifacts', 'artifacts'];

/** Step one, before any body is read: is this method and target one the job may send? */
export function routeRequest(method: string, rawTarget: string, scope: RelayScope): Routing {
  const parsed = parseRequestTarget(rawTarget);
  if (!parsed.ok) return refuse(parsed.reason);
  const target = parsed.value;
  const { segments } = target;
  const call = `${method} ${rawTarget.split('?')[0]}`;

  if (segments.length === 1 && (segments[0] === 'health' || segments[0] === 'version') && method === 'GET') {
    return target.query.size === 0 ? allow({ kind: 'read', call }) : refuse(`${call} takes no query`);
  }
  if (startsWith(segments, ARTIFACTS)) return routeArtifacts(method, call, target, scope);
  if (startsWith(segments, API)) return routeApi(method, call, target, scope);
  if (segments[0] === 'ajax-api') return refuse(`${call}: only the /api/2.0/mlflow/ prefix is relayed, never /ajax-api/`);
  return refuse(`${call} is not an MLflow API a job may call`);
}

function routeApi(method: string, call: string, target: RequestTarget, scope: RelayScope): Routing {
  const rest = target.segments.slice(API.length);
  const model = rest[0] === 'logged-models' && rest.length > 1 ? rest[1] : undefined;
  const shape = [...rest.slice(0, 1), ...(model !== undefined ? ['{model}'] : []), ...rest.slice(model !== undefined ? 2 : 1)].join('/');
  if (model !== undefined && ['search', 'batch-get'].includes(model)) return refuse(notAllowed(call, scope));
  if (model !== undefined && !scope.modelIds.has(model)) {
    return refuse(`${call}: logged model "${model}" was not created by this job through the relay`);
  }

  if (method === 'GET') {
    const read = READ_CALLS.find((candidate) => candidate.path === shape);
    if (!read) return refuse(notAllowed(call, scope));
    for (const key of target.query.keys()) {
      if (!read.query.includes(key)) return refuse(`${call} takes no query parameter "${key}" (allowed: ${read.query.join(', ') || 'none'})`);
    }
    const problem = checkQueryNames(read.names, target.query, scope, call);
    return problem ? refuse(problem) : allow({ kind: 'read', call });
  }
  const json = JSON_CALLS.find((candidate) => candidate.method === method && candidate.path === shape);
  if (!json) return refuse(notAllowed(call, scope));
  if (target.query.size > 0) return refuse(`${call} takes its parameters in the JSON body; send no query string`);
  return allow({ kind: 'json', call, endpoint: json.path, fields: json.fields, names: json.names, pathModel: model });
}

function checkQueryNames(names: ReadCall['names'], query: Map<string, string>, scope: RelayScope, call: string): string | undefined {
  for (const key of ['run_id', 'run_uuid']) {
    const value = query.get(key);
    if (value !== undefined && value !== scope.runId) return `${call} names run "${value}"; a job may only use its own run ${scope.runId}`;
  }
  const experiment = query.get('experiment_id');
  if (experiment !== undefined && experiment !== scope.experimentId) {
    return `${call} names experiment "${experiment}"; a job may only read its own experiment ${scope.experimentId}`;
  }
  if (names === 'run' && !query.has('run_id') && !query.has('run_uuid')) return `${call} must name the job's run ${scope.runId} in run_id`;
  if (names === 'experiment' && experiment === undefined) return `${call} must name the job's experiment ${scope.experimentId}`;
  return undefined;
}

function routeArtifacts(method: string, call: string, target: RequestTarget, scope: RelayScope): Routing {
  const raw = target.segments.slice(ARTIFACTS.length);
  if (raw.length === 0) {
    // Listing a folder: GET .../artifacts?path=<exp>/<run>/artifacts[/...]
    if (method !== 'GET') return refuse(notAllowed(call, scope));
    for (const key of target.query.keys()) if (key !== 'path') return refuse(`${call} takes only the query parameter "path"`);
    const folder = target.query.get('path') ?? '';
    const names = folder.split('/');
    const bad = names.find((name) => name === '' || name === '.' || name === '..' || /[\\%#\x00-\x1f\x7f]/.test(name));
    if (bad !== undefined) return refuse(`${call}: artifact folder "${folder}" holds an empty, ".", ".." segment or one with "\\", "%" or "#"`);
    return ownsArtifactPath(names, scope, false) ? allow({ kind: 'read', call }) : refuse(artifactRefusal(call, folder, scope));
  }
  if (method !== 'PUT' && method !== 'GET') return refuse(notAllowed(call, scope));
  if (target.query.size > 0) return refuse(`${call}: artifact transfers take no query string`);
  const names: string[] = [];
  for (const segment of raw) {
    const decoded = decodeArtifactSegment(segment);
    if (!decoded.ok) return refuse(`${call}: ${decoded.reason}`);
    names.push(decoded.value);
  }
  if (!ownsArtifactPath(names, scope, true)) return refuse(artifactRefusal(call, names.join('/'), scope));
  return allow({ kind: method === 'PUT' ? 'upload' : 'read', call });
}

/** `<exp>/<run>/artifacts/...` or `<exp>/models/<own model>/artifacts/...`; a file needs a name below. */
function ownsArtifactPath(names: string[], scope: RelayScope, file: boolean): boolean {
  if (names[0] !== scope.experimentId) return false;
  const root = names[1] === scope.runId ? 3 : names[1] === 'models' && scope.modelIds.has(names[2] ?? '') ? 4 : 0;
  if (root === 0 || names[root - 1] !== 'artifacts') return false;
  return file ? names.length > root : names.length >= root;
}

function artifactRefusal(call: string, path: string, scope: RelayScope): string {
  return `${call}: artifact path "${path}" is outside this job's run (${scope.experimentId}/${scope.runId}/artifacts/...) and its logged models`;
}

/** Step two for JSON calls: the parsed body. Every id in it, at any depth and in any spelling, must be the job's own. */
export function checkJsonBody(route: Extract<RelayRoute, { kind: 'json' }>, body: JsonValue, scope: RelayScope): string | undefined {
  const { call } = route;
  if (!isJsonObject(body)) return `${call}: the body must be a JSON object`;
  const idProblem = checkIds(body, scope, call) ?? reservedKeyProblem(call, route.endpoint, body);
  if (idProblem) return idProblem;
  const keys = Object.keys(body).map(normalizeKey);
  const allowed = route.fields.map(normalizeKey);
  const unknown = Object.keys(body).find((key) => !allowed.includes(normalizeKey(key)));
  if (unknown !== undefined) return `${call}: field "${unknown}" is not accepted (allowed: ${route.fields.join(', ')})`;
  const has = (...names: string[]) => names.some((name) => keys.includes(name));
  if (route.names === 'run' && !has('runid', 'runuuid')) return `${call} must name the job's run ${scope.runId} in run_id`;
  if (route.names === 'new-model' && !(has('experimentid') && has('sourcerunid'))) {
    return `${call} must name the job's experiment ${scope.experimentId} and its run ${scope.runId} as source_run_id`;
  }
  if (route.names === 'model') {
    const named = fieldOf(body, 'model_id');
    if (named !== undefined && named !== route.pathModel) return `${call}: the body's model_id differs from the path's`;
  }
  return undefined;
}


const ID_RULES: { suffix: string; list: boolean; kind: 'run' | 'experiment' | 'model' }[] = [
  { suffix: 'runuuids', list: true, kind: 'run' },
  { suffix: 'runids', list: true, kind: 'run' },
  { suffix: 'runuuid', list: false, kind: 'run' },
  { suffix: 'runid', list: false, kind: 'run' },
  { suffix: 'experimentids', list: true, kind: 'experiment' },
  { suffix: 'experimentid', list: false, kind: 'experiment' },
  { suffix: 'modelids', list: true, kind: 'model' },
  { suffix: 'modelid', list: false, kind: 'model' },
];

function checkIds(value: JsonValue, scope: RelayScope, call: string): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = checkIds(item, scope, call);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isJsonObject(value)) return undefined;
  const seen = new Map<string, string>();
  for (const key of Object.keys(value)) {
    const normal = normalizeKey(key);
    const twin = seen.get(normal);
    if (twin !== undefined) return `${call}: fields "${twin}" and "${key}" are the same field spelled twice`;
    seen.set(normal, key);
    const rule = ID_RULES.find((candidate) => normal.endsWith(candidate.suffix));
    if (!rule) {
      const problem = checkIds(value[key], scope, call);
      if (problem) return problem;
      continue;
    }
    const ids = rule.list && Array.isArray(value[key]) ? (value[key] as JsonValue[]) : [value[key]];
    for (const id of ids) {
      const problem = checkId(rule.kind, key, id, scope, call);
      if (problem) return problem;
    }
  }
  return undefined;
}

function checkId(kind: 'run' | 'experiment' | 'model', key: string, id: JsonValue, scope: RelayScope, call: string): string | undefined {
  if (typeof id !== 'string') return `${call}: field "${key}" must be a string id`;
  if (kind === 'run' && id !== scope.runId) return `${call}: "${key}" names run "${id}"; a job may only use its own run ${scope.runId}`;
  if (kind === 'experiment' && id !== scope.experimentId) {
    return `${call}: "${key}" names experiment "${id}"; a job may only use its own experiment ${scope.experimentId}`;
  }
  if (kind === 'model' && !scope.modelIds.has(id)) return `${call}: "${key}" names logged model "${id}", which this job did not create`;
  return undefined;
}

function notAllowed(call: string, scope: RelayScope): string {
  return `${call} is not among the MLflow calls a job may make (logging to its own run ${scope.runId} and the models it logs)`;
}

function startsWith(segments: string[], prefix: string[]): boolean {
  return prefix.every((segment, index) => segments[index] === segment);
}

function allow(route: RelayRoute): Routing {
  return { ok: true, route };
}

function refuse(reason: string): Routing {
  return { ok: false, reason };
}
