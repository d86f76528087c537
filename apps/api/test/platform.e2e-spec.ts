import Redis from 'ioredis';
import request from 'supertest';
import { WorkerRegistry } from '@app/adapters';
import { auth, RunningApi, startApi, TOKENS } from './harness';

describe('health, docs and admin surfaces', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it('GET /healthz needs no token and reports each dependency', async () => {
    const response = await request(api.server).get('/healthz').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      checks: { redis: { ok: true, detail: 'PING answered PONG' }, disk: { ok: true }, mlflow: { ok: true } },
      workers: [],
      warnings: [],
    });
  });

  it('shows live workers and warns loudly about an unsandboxed one', async () => {
    const registry = new WorkerRegistry(api.app.get(Redis), api.config.redisPrefix);
    await registry.announce({ id: 'host:1', sandbox: 'NONE (unsandboxed): plain python', concurrency: 1, gpus: [], running: [], startedAt: 'now' });
    const response = await request(api.server).get('/healthz').expect(200);
    expect(response.body.workers).toMatchObject([{ id: 'host:1', concurrency: 1 }]);
    expect(response.body.warnings).toEqual(['worker host:1 runs user code UNSANDBOXED (SANDBOX=none)']);
    await registry.withdraw('host:1');
  });

  it('serves Swagger UI at /docs and documents every route with its errors', async () => {
    const ui = await request(api.server).get('/docs/').expect(200);
    expect(ui.text).toContain('swagger-ui');
    const spec = (await request(api.server).get('/docs-json').expect(200)).body;
    expect(Object.keys(spec.paths).sort()).toEqual(
      [
        '/admin/benchmarks/{id}/leaderboard/rebuild',
        '/benchmarks',
        '/benchmarks/{id}/leaderboard',
        '/healthz',
        '/jobs',
        '/jobs/{id}/cancel',
        '/jobs/{id}/logs',
        '/jobs/{id}/metrics',
        '/jobs/{id}/rerun',
        '/jobs/{id}/results',
        '/jobs/{id}/status',
        '/submissions',
      ].sort(),
    );
    expect(Object.keys(spec.paths['/jobs'].post.responses).sort()).toEqual(['202', '400', '401', '403', '404', '413', '415', '429', '431', '503']);
    expect(Object.keys(spec.paths['/submissions'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '413']));
    expect(spec.components.schemas.ErrorBody.required).toEqual(['statusCode', 'error', 'message']);
  });

  it('opens Bull Board to admins only, by bearer token or browser Basic login', async () => {
    const anonymous = await request(api.server).get('/admin/queues').expect(401);
    expect(anonymous.headers['www-authenticate']).toContain('Basic');
    await request(api.server).get('/admin/queues').set(auth('alice')).expect(403);
    await request(api.server).get('/admin/queues').set(auth('admin')).expect(200);
    const basic = Buffer.from(`admin:${TOKENS.admin}`).toString('base64');
    await request(api.server).get('/admin/queues').set('Authorization', `Basic ${basic}`).expect(200);
    const wrongUser = Buffer.from(`alice:${TOKENS.admin}`).toString('base64');
    await request(api.server).get('/admin/queues').set('Authorization', `Basic ${wrongUser}`).expect(401);
  });
});

describe('when Redis is down', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ REDIS_URL: 'redis://127.0.0.1:1/0' });
  });
  afterAll(async () => {
    await api.app.close();
  });

  it('answers 503 with the reason, never 500', async () => {
    const health = await request(api.server).get('/healthz').expect(503);
    expect(health.body).toMatchObject({ status: 'unavailable', checks: { redis: { ok: false }, disk: { ok: true } } });
    // Failed logins are counted in Redis: without it no credentials are judged, right or wrong
    // alike, or a 503-versus-200 answer would let guesses through uncounted.
    const submission = await request(api.server).post('/submissions').set(auth('alice')).attach('files', Buffer.from('x'), 'main.py').expect(503);
    expect(submission.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringContaining('Redis is unreachable') });
    await request(api.server).get('/jobs').set('Authorization', 'Bearer a-wrong-guess').expect(503);
  });
});
