import * as http from 'node:http';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MlflowRelay, relayAddress } from './mlflow-relay';

describe('relayAddress', () => {
  it('keeps the port; an IP address becomes 127.0.0.1 inside, a host name stays', () => {
    expect(relayAddress('http://127.0.0.1:5010')).toEqual({
      target: { host: '127.0.0.1', port: 5010 },
      insideHost: '127.0.0.1',
      insideUri: 'http://127.0.0.1:5010',
    });
    expect(relayAddress('http://mlflow:5000/')).toMatchObject({ insideHost: 'mlflow', insideUri: 'http://mlflow:5000' });
    expect(relayAddress('http://[::1]:5010/mlflow')).toEqual({
      target: { host: '::1', port: 5010 },
      insideHost: '127.0.0.1',
      insideUri: 'http://127.0.0.1:5010/mlflow',
    });
  });

  it('refuses what the in-sandbox forwarder cannot serve', () => {
    expect(() => relayAddress('https://mlflow.example.com:5000')).toThrow(/plain HTTP only/);
    expect(() => relayAddress('http://mlflow')).toThrow(/port 80/);
  });
});

describe('MlflowRelay', () => {
  let dir: string;
  let upstream: http.Server;
  let port: number;
  const seen: { method: string; url: string; body: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'relay-spec-'));
    // A stand-in for MLflow that records what reaches it and answers like the logged-models API.
    upstream = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method ?? '', url: request.url ?? '', body });
        response.setHeader('content-type', 'application/json');
        response.end(request.url?.endsWith('/logged-models') ? '{"model": {"info": {"model_id": "m-1"}}}' : '{}');
      });
    });
    port = await new Promise((resolve) => upstream.listen(0, '127.0.0.1', () => resolve((upstream.address() as net.AddressInfo).port)));
  });
  afterAll(async () => {
    await new Promise((resolve) => upstream.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  function call(socketPath: string, method: string, url: string, body?: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request({ socketPath, method, path: url, headers: { 'content-type': 'application/json' } }, (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  it('forwards what stays in the job\'s run, refuses the rest with 403, and removes its socket on close', async () => {
    const socketPath = path.join(dir, 'mlflow.sock');
    const relay = await MlflowRelay.start(socketPath, { host: '127.0.0.1', port }, { runId: 'run-a', experimentId: '3' });
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);

    const own = await call(socketPath, 'POST', '/api/2.0/mlflow/runs/log-batch', '{"run_id": "run-a", "metrics": []}');
    expect(own.status).toBe(200);
    const other = await call(socketPath, 'POST', '/api/2.0/mlflow/runs/log-batch', '{"run_id": "run-b", "metrics": []}');
    expect(other.status).toBe(403);
    expect(JSON.parse(other.text)).toMatchObject({ error_code: 'PERMISSION_DENIED', message: expect.stringContaining('run-b') });
    const upload = await call(socketPath, 'PUT', '/api/2.0/mlflow-artifacts/artifacts/3/run-a/artifacts/scores.csv', 'a,b\n1,2\n');
    expect(upload.status).toBe(200);
    const modelBefore = await call(socketPath, 'PATCH', '/api/2.0/mlflow/logged-models/m-1', '{}');
    expect(modelBefore.status).toBe(403);
    await call(socketPath, 'POST', '/api/2.0/mlflow/logged-models', '{"experiment_id": "3", "source_run_id": "run-a"}');
    expect((await call(socketPath, 'PATCH', '/api/2.0/mlflow/logged-models/m-1', '{}')).status).toBe(200);
    expect((await call(socketPath, 'POST', '/api/2.0/mlflow/experiments/delete', '{"experiment_id": "3"}')).status).toBe(403);
    expect((await call(socketPath, 'POST', '/api/2.0/mlflow/runs/log-batch', '{not json')).status).toBe(400);

    expect(seen.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /api/2.0/mlflow/runs/log-batch',
      'PUT /api/2.0/mlflow-artifacts/artifacts/3/run-a/artifacts/scores.csv',
      'POST /api/2.0/mlflow/logged-models',
      'PATCH /api/2.0/mlflow/logged-models/m-1',
    ]);
    expect(seen[1].body).toBe('a,b\n1,2\n');
    await relay.close();
    await expect(stat(socketPath)).rejects.toThrow(/ENOENT/);
  });
});
