import * as http from 'node:http';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MlflowRelay, relayAddress } from './mlflow-relay';
import { rawRequest } from './testing/raw-http';

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
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'relay-spec-'));
    // A stand-in for MLflow that records what reaches it and answers like the logged-models API.
    upstream = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        response.setHeader('content-type', 'application/json');
        response.setHeader('x-upstream', 'yes');
        const created = '{ "model" : {"info": {"source_run_id": "run-a", "model_id": "m-1", "experiment_id": "3"}}}';
        response.end(request.url?.endsWith('/logged-models') ? created : '{}');
      });
    });
    port = await new Promise((resolve) => upstream.listen(0, '127.0.0.1', () => resolve((upstream.address() as net.AddressInfo).port)));
  });
  afterAll(async () => {
    await new Promise((resolve) => upstream.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const json = { 'content-type': 'application/json' };

  it('forwards exactly the checked request: canonical path, fixed Host, allow-listed headers, re-serialized body', async () => {
    const socketPath = path.join(dir, 'exact.sock');
    const relay = await MlflowRelay.start(socketPath, { host: '127.0.0.1', port }, { runId: 'run-a', experimentId: '3' });
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
    try {
      const body = '{ "run_id" : "run-a",\n "metrics": [{"key": "auc", "value": 1e400, "timestamp": 12345678901234567890, "step": -0}]}';
      const answer = await rawRequest({ socketPath }, 'POST', '/api/2.0/mlflow/runs/log-batch', {
        headers: {
          ...json,
          authorization: 'Bearer stolen',
          'x-forwarded-for': '10.0.0.1',
          'x-forwarded-host': 'evil',
          cookie: 'a=b',
          'user-agent': 'mlflow-python-client/3.17.2',
          'x-mlflow-client-version': '3.17.2',
          'accept-encoding': 'gzip',
        },
        body,
      });
      expect(answer.status).toBe(200);
      expect(answer.headers['x-upstream']).toBe('yes');
      expect(seen).toHaveLength(1);
      expect(seen[0].url).toBe('/api/2.0/mlflow/runs/log-batch');
      expect(seen[0].body).toBe('{"run_id":"run-a","metrics":[{"key":"auc","value":1e400,"timestamp":12345678901234567890,"step":-0}]}');
      expect(seen[0].headers).toEqual({
        host: `127.0.0.1:${port}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(seen[0].body)),
        'user-agent': 'mlflow-python-client/3.17.2',
        'x-mlflow-client-version': '3.17.2',
        connection: expect.any(String),
      });
      const upload = await rawRequest({ socketPath }, 'PUT', '/api/2.0/mlflow-artifacts/artifacts/3/run-a/artifacts/a%20b.csv', {
        headers: { 'content-type': 'text/csv', expect: '100-continue', authorization: 'x' },
        body: 'a,b\n1,2\n',
      });
      expect(upload.status).toBe(200);
      expect(seen[1]).toMatchObject({ url: '/api/2.0/mlflow-artifacts/artifacts/3/run-a/artifacts/a%20b.csv', body: 'a,b\n1,2\n' });
      expect(Object.keys(seen[1].headers).sort()).toEqual(['connection', 'content-length', 'content-type', 'host']);
    } finally {
      await relay.close();
    }
    await expect(stat(socketPath)).rejects.toThrow(/ENOENT/);
  });

  it('learns the models the job creates from MLflow\'s answer, and only those', async () => {
    const socketPath = path.join(dir, 'models.sock');
    const relay = await MlflowRelay.start(socketPath, { host: '127.0.0.1', port }, { runId: 'run-a', experimentId: '3' });
    const send = (method: string, target: string, body?: string) => rawRequest({ socketPath }, method, target, { headers: json, body });
    try {
      expect((await send('PATCH', '/api/2.0/mlflow/logged-models/m-1', '{"status":"LOGGED_MODEL_READY"}')).status).toBe(403);
      const created = await send('POST', '/api/2.0/mlflow/logged-models', '{"experiment_id":"3","name":"m","source_run_id":"run-a"}');
      expect(JSON.parse(created.text)).toMatchObject({ model: { info: { model_id: 'm-1' } } });
      expect((await send('PATCH', '/api/2.0/mlflow/logged-models/m-1', '{"status":"LOGGED_MODEL_READY"}')).status).toBe(200);
      expect((await send('PUT', '/api/2.0/mlflow-artifacts/artifacts/3/models/m-1/artifacts/MLmodel', 'x')).status).toBe(200);
      expect(seen.map((request) => `${request.method} ${request.url}`)).toEqual([
        'POST /api/2.0/mlflow/logged-models',
        'PATCH /api/2.0/mlflow/logged-models/m-1',
        'PUT /api/2.0/mlflow-artifacts/artifacts/3/models/m-1/artifacts/MLmodel',
      ]);
    } finally {
      await relay.close();
    }
  });

  it('answers bad requests with a clear 4xx and forwards none of them', async () => {
    const socketPath = path.join(dir, 'bad.sock');
    const relay = await MlflowRelay.start(socketPath, { host: '127.0.0.1', port }, { runId: 'run-a', experimentId: '3' });
    const send = (method: string, target: string, headers: Record<string, string>, body?: string) => rawRequest({ socketPath }, method, target, { headers, body });
    try {
      const cases: [number, RegExp, Promise<{ status: number; text: string }>][] = [
        [400, /not JSON the relay accepts/, send('POST', '/api/2.0/mlflow/runs/log-batch', json, '{not json')],
        [400, /not valid UTF-8/, rawRequest({ socketPath }, 'POST', '/api/2.0/mlflow/runs/log-batch', { headers: json, body: Buffer.from([0x7b, 0xff, 0x7d]) })],
        [415, /Content-Type: application\/json/, send('POST', '/api/2.0/mlflow/runs/log-batch', { 'content-type': 'text/plain' }, '{"run_id":"run-a"}')],
        [413, /larger than 1048576 bytes/, send('POST', '/api/2.0/mlflow/runs/log-batch', { ...json, 'content-length': String(2 ** 20 + 1) })],
        [403, /takes no request body/, send('GET', '/api/2.0/mlflow/runs/get?run_id=run-a', json, '{"run_id":"run-b"}')],
        [403, /run-b/, send('POST', '/api/2.0/mlflow/runs/log-batch', json, '{"run_id":"run-b","metrics":[]}')],
      ];
      for (const [status, message, pending] of cases) {
        const answer = await pending;
        expect(answer.status).toBe(status);
        expect(JSON.parse(answer.text).message).toMatch(message);
      }
      expect(seen).toEqual([]);
    } finally {
      await relay.close();
    }
  });

  it('holds a job to its cap of requests at once, however many it pipelines on one connection', async () => {
    // An MLflow that answers slowly, counting how many calls it holds at once.
    let active = 0;
    let most = 0;
    let reached = 0;
    const slow = http.createServer((request, response) => {
      active += 1;
      reached += 1;
      most = Math.max(most, active);
      request.resume();
      setTimeout(() => {
        active -= 1;
        response.setHeader('content-type', 'application/json');
        response.end('{}');
      }, 100);
    });
    const slowPort = await new Promise<number>((resolve) => slow.listen(0, '127.0.0.1', () => resolve((slow.address() as net.AddressInfo).port)));
    const socketPath = path.join(dir, 'pipelined.sock');
    const relay = await MlflowRelay.start(socketPath, { host: '127.0.0.1', port: slowPort }, { runId: 'run-a', experimentId: '3' }, undefined, { maxConnections: 2 });
    try {
      const socket = net.connect({ path: socketPath });
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk));
      const closed = new Promise((resolve) => socket.on('close', resolve));
      socket.write('GET /api/2.0/mlflow/runs/get?run_id=run-a HTTP/1.1\r\nhost: x\r\n\r\n'.repeat(200));
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      socket.destroy();
      expect(most).toBeLessThanOrEqual(2);
      expect(reached).toBeLessThanOrEqual(2);
      expect(answer).toMatch(/HTTP\/1\.1 503 [^]*more than 2 requests at once/);
    } finally {
      await relay.close();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('lets go of a connection that stalls mid-request, or after a refusal, freeing its slot', async () => {
    const socketPath = path.join(dir, 'idle.sock');
    const relay = await MlflowRelay.start(socketPath, { host: '127.0.0.1', port }, { runId: 'run-a', experimentId: '3' }, undefined, { idleTimeoutMs: 300 });
    // Clients that keep their end open: only the relay closing its own end frees the slot.
    const stall = async (head: string) => {
      const socket = net.connect({ path: socketPath, allowHalfOpen: true });
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk));
      socket.write(head);
      await new Promise((resolve) => socket.on('end', resolve));
      for (let waited = 0; relay.openConnections > 0 && waited < 3_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
      return answer;
    };
    try {
      const started = Date.now();
      const head = 'POST /api/2.0/mlflow/runs/log-batch HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n';
      expect(await stall(`${head}content-type: application/json\r\n\r\n{"run_id"`)).toBe('');
      expect(relay.openConnections).toBe(0);
      expect(await stall(`${head}\r\n{"run_id"`)).toMatch(/^HTTP\/1.1 415 /);
      expect(relay.openConnections).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(seen).toEqual([]);
    } finally {
      await relay.close();
    }
  });
});
