/** What a job may touch in MLflow: its own run, its experiment read-only, and models it logged. */
export interface RelayScope {
  runId: string;
  experimentId: string;
  /** Logged models this job created through the relay (learned from MLflow's answers). */
  modelIds: Set<string>;
}

export interface RelayRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body of an API call; undefined for GET and artifact uploads. */
  body?: Record<string, unknown>;
}

/** Endpoints that act on one run, named by run_id (or the older run_uuid). */
const RUN_ENDPOINTS = new Set([
  'runs/get',
  'runs/update',
  'runs/log-metric',
  'runs/log-parameter',
  'runs/log-batch',
  'runs/set-tag',
  'runs/delete-tag',
  'runs/log-model',
  'runs/log-inputs',
  'runs/log-outputs',
  'runs/outputs',
  'metrics/get-history',
  'artifacts/list',
]);

const API = /^\/(?:ajax-)?api\/2\.0\/mlflow\/(.+)$/;
const ARTIFACTS = /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/(?:artifacts|mpu\/(?:create|complete|abort))(?:\/(.*))?$/;

/**
 * Undefined when the request stays within the job's scope, else the reason it is refused. Without
 * this, code in the sandbox could rewrite other users' runs or metrics, or read them.
 */
export function relayVerdict(request: RelayRequest, scope: RelayScope): string | undefined {
  const { method, path, query, body } = request;
  if ((path === '/health' || path === '/version') && method === 'GET') return undefined;

  const artifacts = ARTIFACTS.exec(path);
  if (artifacts) {
    const target = decodeURIComponent(artifacts[1] ?? query.get('path') ?? '');
    return ownsArtifactPath(target, scope) ? undefined : `artifacts outside run ${scope.runId} ("${target}")`;
  }

  const api = API.exec(path);
  if (!api) return `${method} ${path} is not an MLflow API the sandbox may use`;
  const endpoint = api[1];
  if (RUN_ENDPOINTS.has(endpoint)) {
    const runId = String(body?.run_id ?? body?.run_uuid ?? query.get('run_id') ?? query.get('run_uuid') ?? '');
    return runId === scope.runId ? undefined : `${endpoint} on run "${runId}", not this job's run ${scope.runId}`;
  }
  if (endpoint === 'experiments/get' && method === 'GET') {
    return query.get('experiment_id') === scope.experimentId ? undefined : 'reading another experiment';
  }
  if (endpoint === 'logged-models' && method === 'POST') {
    const experimentId = String(body?.experiment_id ?? '');
    const sourceRun = String(body?.source_run_id ?? scope.runId);
    return experimentId === scope.experimentId && sourceRun === scope.runId ? undefined : 'a logged model outside this job\'s run';
  }
  const model = /^logged-models\/([^/]+)(?:\/(?:tags|params))?$/.exec(endpoint);
  if (model && method !== 'DELETE') {
    return scope.modelIds.has(model[1]) ? undefined : `logged model ${model[1]} was not created by this job`;
  }
  return `${method} ${endpoint} is not allowed from a job (only its own run ${scope.runId})`;
}

function ownsArtifactPath(target: string, scope: RelayScope): boolean {
  const segments = target.split('/');
  if (segments.includes('..') || segments[0] !== scope.experimentId) return false;
  if (segments[1] === scope.runId) return true;
  return segments[1] === 'models' && scope.modelIds.has(segments[2] ?? '');
}
