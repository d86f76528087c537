import { relayVerdict, RelayScope } from './relay-policy';

const scope = (): RelayScope => ({ runId: 'run-a', experimentId: '3', modelIds: new Set(['m-own']) });
const get = (path: string, query = '') => ({ method: 'GET', path, query: new URLSearchParams(query) });
const post = (path: string, body: Record<string, unknown>) => ({ method: 'POST', path, query: new URLSearchParams(), body });

describe('relayVerdict: what a job may do in MLflow', () => {
  it.each([
    get('/health'),
    get('/api/2.0/mlflow/runs/get', 'run_id=run-a'),
    post('/api/2.0/mlflow/runs/log-batch', { run_id: 'run-a', metrics: [] }),
    post('/api/2.0/mlflow/runs/update', { run_uuid: 'run-a', status: 'FINISHED' }),
    post('/api/2.0/mlflow/runs/log-metric', { run_id: 'run-a', key: 'auc', value: 1 }),
    get('/api/2.0/mlflow/metrics/get-history', 'run_id=run-a&metric_key=auc'),
    get('/api/2.0/mlflow/experiments/get', 'experiment_id=3'),
    { method: 'PUT', path: '/api/2.0/mlflow-artifacts/artifacts/3/run-a/artifacts/scores.csv', query: new URLSearchParams() },
    get('/api/2.0/mlflow-artifacts/artifacts', 'path=3/run-a/artifacts'),
    post('/api/2.0/mlflow/logged-models', { experiment_id: '3', source_run_id: 'run-a' }),
    { method: 'PATCH', path: '/api/2.0/mlflow/logged-models/m-own', query: new URLSearchParams(), body: {} },
    { method: 'PUT', path: '/api/2.0/mlflow-artifacts/artifacts/3/models/m-own/artifacts/model.pkl', query: new URLSearchParams() },
  ])('allows %j', (request) => {
    expect(relayVerdict(request, scope())).toBeUndefined();
  });

  it.each([
    post('/api/2.0/mlflow/runs/log-batch', { run_id: 'run-b', metrics: [] }),
    post('/api/2.0/mlflow/runs/update', { run_id: 'run-b', status: 'FAILED' }),
    get('/api/2.0/mlflow/runs/get', 'run_id=run-b'),
    post('/api/2.0/mlflow/runs/create', { experiment_id: '3' }),
    post('/api/2.0/mlflow/runs/delete', { run_id: 'run-a' }),
    post('/api/2.0/mlflow/runs/search', { experiment_ids: ['3'] }),
    post('/api/2.0/mlflow/experiments/delete', { experiment_id: '3' }),
    get('/api/2.0/mlflow/experiments/get', 'experiment_id=1'),
    get('/api/2.0/mlflow/experiments/search'),
    { method: 'PUT', path: '/api/2.0/mlflow-artifacts/artifacts/3/run-b/artifacts/x', query: new URLSearchParams() },
    { method: 'PUT', path: '/api/2.0/mlflow-artifacts/artifacts/3/run-a/../run-b/x', query: new URLSearchParams() },
    { method: 'PUT', path: '/api/2.0/mlflow-artifacts/artifacts/3/run-a%2F..%2F..%2Frun-b/x', query: new URLSearchParams() },
    get('/api/2.0/mlflow-artifacts/artifacts', 'path=3'),
    post('/api/2.0/mlflow/logged-models', { experiment_id: '3', source_run_id: 'run-b' }),
    { method: 'PATCH', path: '/api/2.0/mlflow/logged-models/m-other', query: new URLSearchParams(), body: {} },
    { method: 'DELETE', path: '/api/2.0/mlflow/logged-models/m-own', query: new URLSearchParams() },
    post('/api/2.0/mlflow/registered-models/create', { name: 'x' }),
    get('/'),
    get('/static-files/index.html'),
  ])('refuses %j', (request) => {
    expect(relayVerdict(request, scope())).toEqual(expect.any(String));
  });
});
