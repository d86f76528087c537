import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { JobQueuePort, JobStatusPort, TrackingPort } from '@app/domain';
import { auth, RunningApi, startApi } from './harness';

describe('jobs API (real app, real Redis, real BullMQ)', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '1000' });
  });
  afterAll(async () => {
    await api.close();
  });

  async function submit(user: 'alice' | 'bob' = 'alice'): Promise<string> {
    const response = await request(api.server)
      .post('/submissions')
      .set(auth(user))
      .attach('files', Buffer.from('print(1)'), 'main.py')
      .expect(201);
    return response.body.submission_id;
  }

  it('queues a job, shows it pending, lists it newest first', async () => {
    const submissionId = await submit();
    const created = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, config: { lr: 0.1 } }).expect(202);
    expect(created.body).toMatchObject({ job_id: expect.any(String), status: 'pending', submission_id: submissionId, user_id: 'alice', config: { lr: 0.1 } });
    expect(created.headers.location).toBe(`/jobs/${created.body.job_id}/status`);

    const status = await request(api.server).get(`/jobs/${created.body.job_id}/status`).set(auth('alice')).expect(200);
    expect(status.body).toMatchObject({
      job_id: created.body.job_id,
      status: 'pending',
      submission_id: submissionId,
      user_id: 'alice',
      run_id: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      error_message: null,
    });

    const second = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, resource_class: 'medium' }).expect(202);
    const list = await request(api.server).get('/jobs?limit=2').set(auth('alice')).expect(200);
    expect(list.body.jobs.map((job: { job_id: string }) => job.job_id)).toEqual([second.body.job_id, created.body.job_id]);
    expect(list.body).toMatchObject({ offset: 0, limit: 2 });
  });

  it('gives a duplicate POST /jobs the same job, and a new Idempotency-Key a new one', async () => {
    const submissionId = await submit();
    const body = { submission_id: submissionId, config: { a: 1, b: 2 } };
    const first = await request(api.server).post('/jobs').set(auth('alice')).send(body).expect(202);
    const again = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, config: { b: 2, a: 1 } }).expect(202);
    expect(again.body.job_id).toBe(first.body.job_id);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const keyed = await request(api.server).post('/jobs').set(auth('alice')).set('Idempotency-Key', 'rerun-1').send(body).expect(202);
    expect(keyed.body.job_id).not.toBe(first.body.job_id);
    const keyedAgain = await request(api.server).post('/jobs').set(auth('alice')).set('Idempotency-Key', 'rerun-1').send(body).expect(202);
    expect(keyedAgain.body.job_id).toBe(keyed.body.job_id);
  });

  it('keeps users apart: 403 for another user\'s job and submission, 404 for unknown ids; admins see all', async () => {
    const submissionId = await submit('alice');
    const job = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId }).expect(202);
    const forbidden = await request(api.server).get(`/jobs/${job.body.job_id}/status`).set(auth('bob')).expect(403);
    expect(forbidden.body).toMatchObject({ statusCode: 403, error: 'Forbidden', message: expect.stringContaining('another user') });
    await request(api.server).get(`/jobs/${job.body.job_id}/logs`).set(auth('bob')).expect(403);
    await request(api.server).get(`/jobs/${job.body.job_id}/results`).set(auth('bob')).expect(403);
    await request(api.server).post('/jobs').set(auth('bob')).send({ submission_id: submissionId }).expect(403);
    const unknown = await request(api.server).get('/jobs/00000000-0000-0000-0000-000000000000/status').set(auth('alice')).expect(404);
    expect(unknown.body.message).toContain('does not exist');
    await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: 'no-such-submission' }).expect(404);
    await request(api.server).get(`/jobs/${job.body.job_id}/status`).set(auth('admin')).expect(200);
    const everyone = await request(api.server).get('/jobs?all=true').set(auth('admin')).expect(200);
    expect(everyone.body.total).toBeGreaterThanOrEqual(1);
    await request(api.server).get('/jobs?all=true').set(auth('alice')).expect(403);
    const bobs = await request(api.server).get('/jobs').set(auth('bob')).expect(200);
    expect(bobs.body.jobs).toEqual([]);
  });

  it('validates the body and query, listing every offending field', async () => {
    const response = await request(api.server)
      .post('/jobs')
      .set(auth('alice'))
      .send({ config: 'lr=1', resource_class: 'huge', extra: true })
      .expect(400);
    expect(response.body.details).toEqual(
      expect.arrayContaining([
        expect.stringContaining('submission_id'),
        'config must be a JSON object',
        'resource_class must be one of small, medium',
        'extra is not a known field',
      ]),
    );
    const badJson = await request(api.server).post('/jobs').set(auth('alice')).set('Content-Type', 'application/json').send('{"submission_id":').expect(400);
    expect(badJson.body.message).toContain('the request body is not valid JSON');
    await request(api.server).get('/jobs?limit=0&offset=-1').set(auth('alice')).expect(400);
    await request(api.server).post('/jobs').set(auth('alice')).set('Idempotency-Key', 'has space').send({ submission_id: 'x' }).expect(400);
    await request(api.server).get('/jobs').expect(401);
  });

  it('takes query integers only as plain decimal digits within bounds: every other spelling is a 400 naming the field', async () => {
    const hostile = ['1e20', '3.4e38', '0x10', '1.0', '%201', '-0', '%2B1', '1e3', '', 'NaN', 'Infinity', '99999999999999999999999', '1%2C2'];
    const job = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: await submit() }).expect(202);
    for (const [route, field] of [['/jobs', 'offset'], ['/jobs', 'limit'], [`/jobs/${job.body.job_id}/logs`, 'offset']]) {
      for (const value of [...hostile, '1&' + field + '=2']) {
        const response = await request(api.server).get(`${route}?${field}=${value}`).set(auth('alice'));
        expect({ route, field, value, status: response.status }).toEqual({ route, field, value, status: 400 });
        expect(response.body.message).toContain(`${field} must be a whole number`);
      }
    }
    await request(api.server).get('/jobs?offset=1000000&limit=100').set(auth('alice')).expect(200);
    await request(api.server).get('/jobs?offset=1000001').set(auth('alice')).expect(400);
    await request(api.server).get('/jobs?limit=101').set(auth('alice')).expect(400);
    await request(api.server).get(`/jobs/${job.body.job_id}/logs?offset=${2 ** 40}`).set(auth('alice')).expect(200);
    await request(api.server).get(`/jobs/${job.body.job_id}/logs?offset=${2 ** 40 + 1}`).set(auth('alice')).expect(400);
    const all = await request(api.server).get('/jobs?all=yes').set(auth('admin')).expect(400);
    expect(all.body.message).toContain('all must be one of true, false');
    // Names every object has are unknown fields too, not silently dropped.
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const response = await request(api.server).get(`/jobs?${name}=1`).set(auth('alice')).expect(400);
      expect(response.body.message).toBe(`${name} is not a known field`);
    }
  });

  it('refuses hostile JSON bodies with a 4xx and a message before any recursive code sees them', async () => {
    const submissionId = await submit();
    const post = () => request(api.server).post('/jobs').set(auth('alice'));
    // Sent byte for byte (a custom serializer keeps supertest from JSON-encoding a Buffer).
    const json = (body: string | Buffer, type = 'application/json') =>
      post()
        .set('Content-Type', type)
        .serialize((data: unknown) => data as string)
        .send(body as string);
    const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const refused: Array<[string, Promise<request.Response>, number, string]> = [
      ['array', json('[]'), 400, 'must be a JSON object'],
      ['string', json('"x"'), 400, 'must be a JSON object'],
      ['null', json('null'), 400, 'must be a JSON object'],
      ['number', json('1'), 400, 'must be a JSON object'],
      ['invalid JSON', json('{"submission_id": '), 400, 'not valid JSON'],
      ['invalid UTF-8', json(Buffer.from([...Buffer.from('{"submission_id":"'), 0xff, 0xfe, ...Buffer.from('"}')])), 400, 'not valid UTF-8'],
      ['text/plain', json(`{"submission_id":"${submissionId}"}`, 'text/plain'), 415, 'Content-Type "text/plain" is not supported'],
      ['form', json(`submission_id=${submissionId}`, 'application/x-www-form-urlencoded'), 415, 'application/json'],
      ['latin1', json('{}', 'application/json; charset=latin1'), 415, 'charset'],
      ['utf-16', json('{}', 'application/json; charset=utf-16'), 415, 'charset'],
      ['no body', post(), 415, 'no Content-Type'],
      ['empty JSON', json(''), 400, 'submission_id is required'],
      ['config 10,000 deep', json(`{"submission_id":"${submissionId}","config":${nested(10_000)}}`), 400, 'nests deeper than 33 levels'],
      ['config 33 deep', json(`{"submission_id":"${submissionId}","config":${nested(33)}}`), 400, 'nests deeper than'],
      ['config over 64 KiB', post().send({ submission_id: submissionId, config: { text: 'x'.repeat(70_000) } }), 400, 'at most 65536'],
      ['body over 256 KiB', post().send({ submission_id: submissionId, config: { text: 'x'.repeat(300_000) } }), 413, '256 KiB'],
      ['__proto__', json(`{"submission_id":"${submissionId}","config":{"a":{"__proto__":{"polluted":1}}}}`), 400, '"config.a.__proto__"'],
      ['constructor', json(`{"submission_id":"${submissionId}","config":{"constructor":{"prototype":{"polluted":1}}}}`), 400, '"config.constructor"'],
      ['prototype', json(`{"submission_id":"${submissionId}","config":{"prototype":1}}`), 400, '"config.prototype"'],
      ['toString', post().send({ submission_id: submissionId, toString: 1 }), 400, 'toString is not a known field'],
      ['a field twice', json(`{"submission_id":"nope","submission_id":"${submissionId}"}`), 400, 'names "submission_id" twice'],
      ['a nested key twice', json(`{"submission_id":"${submissionId}","config":{"lr":1,"lr":2}}`), 400, 'names "lr" twice'],
      ['a key twice, one escaped', json(`{"submission_id":"${submissionId}","config":{"lr":1,"\\u006cr":2}}`), 400, 'names "lr" twice'],
    ];
    for (const [name, pending, status, message] of refused) {
      const response = await pending;
      expect({ name, status: response.status }).toEqual({ name, status });
      expect({ name, message: response.body.message }).toEqual({ name, message: expect.stringContaining(message) });
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    // Routes that take no body never read one, whatever it is.
    await request(api.server).get('/jobs').set(auth('alice')).set('Content-Type', 'application/json').send(nested(10_000)).expect(200);
    await request(api.server).post('/jobs/no-such-job/cancel').set(auth('alice')).set('Content-Type', 'application/json; charset=latin1').send('x'.repeat(300_000)).expect(404);
    // The documented limits themselves are accepted.
    await json(`{"submission_id":"${submissionId}","config":${nested(32)}}`).expect(202);
    await post().send({ submission_id: submissionId, config: { text: 'x'.repeat(60_000) } }).expect(202);
  });

  it('bounds submission metadata the same way', async () => {
    const upload = (metadata: string) =>
      request(api.server).post('/submissions').set(auth('alice')).attach('files', Buffer.from('print(1)'), 'main.py').field('metadata', metadata);
    const deep = await upload('{"a":'.repeat(6000) + '1' + '}'.repeat(6000)).expect(400);
    expect(deep.body.message).toContain('metadata nests deeper than 32 levels');
    const proto = await upload('{"x":{"__proto__":{"polluted":1}}}').expect(400);
    expect(proto.body.message).toContain('"x.__proto__"');
    await upload('[1]').expect(400);
    await upload('{"a":'.repeat(32) + '1' + '}'.repeat(32)).expect(201);
  });

  it('answers 405 with Allow for a known path and a method it does not serve, 404 for unknown paths', async () => {
    const trace = await request(api.server).trace('/jobs').set(auth('alice')).expect(405);
    expect(trace.headers.allow).toBe('GET, HEAD, POST');
    expect(trace.body).toMatchObject({ statusCode: 405, error: 'Method Not Allowed', message: expect.stringContaining('TRACE is not allowed on /jobs') });
    const remove = await request(api.server).delete('/jobs/some-id/status').set(auth('alice')).expect(405);
    expect(remove.headers.allow).toBe('GET, HEAD');
    expect((await request(api.server).put('/healthz').expect(405)).headers.allow).toBe('GET, HEAD');
    expect((await request(api.server).get('/jobs/some-id/cancel').set(auth('alice')).expect(405)).headers.allow).toBe('POST');
    expect((await request(api.server).options('/submissions').expect(405)).headers.allow).toBe('POST');
    await request(api.server).get('/no-such-path').set(auth('alice')).expect(404);
    await request(api.server).post('/jobs/some-id/nothing').set(auth('alice')).expect(404);
  });

  it('serves logs as text from an offset, and 409 for results before the job has a run', async () => {
    const submissionId = await submit();
    const job = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, config: { logs: 1 } }).expect(202);
    const empty = await request(api.server).get(`/jobs/${job.body.job_id}/logs`).set(auth('alice')).expect(200);
    expect(empty.text).toBe('');
    expect(empty.headers['content-type']).toContain('text/plain');
    mkdirSync(api.config.logRoot, { recursive: true });
    writeFileSync(path.join(api.config.logRoot, `${job.body.job_id}.log`), 'epoch 1 loss 0.5\nepoch 2 loss 0.25\n');
    const all = await request(api.server).get(`/jobs/${job.body.job_id}/logs`).set(auth('alice')).expect(200);
    expect(all.text).toBe('epoch 1 loss 0.5\nepoch 2 loss 0.25\n');
    expect(all.headers['x-next-offset']).toBe('35');
    const tail = await request(api.server).get(`/jobs/${job.body.job_id}/logs?offset=17`).set(auth('alice')).expect(200);
    expect(tail.text).toBe('epoch 2 loss 0.25\n');
    const results = await request(api.server).get(`/jobs/${job.body.job_id}/results`).set(auth('alice')).expect(409);
    expect(results.body.message).toContain('has no results yet');
  });

  it('cancels a pending job: it leaves the queue, ends cancelled, and cannot be cancelled twice', async () => {
    const submissionId = await submit();
    const job = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, config: { cancel: 1 } }).expect(202);
    await request(api.server).post(`/jobs/${job.body.job_id}/cancel`).set(auth('bob')).expect(403);
    const cancelled = await request(api.server).post(`/jobs/${job.body.job_id}/cancel`).set(auth('alice')).expect(202);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', error_message: 'cancelled by alice before it started' });
    expect(await api.app.get(JobQueuePort).state(job.body.job_id)).toBe('missing');
    const again = await request(api.server).post(`/jobs/${job.body.job_id}/cancel`).set(auth('alice')).expect(409);
    expect(again.body.message).toContain('already cancelled');
    await request(api.server).post('/jobs/00000000-0000-0000-0000-000000000000/cancel').set(auth('alice')).expect(404);
  });

  it('serves results from the real MLflow run with links that use its experiment id', async () => {
    const submissionId = await submit();
    const job = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, config: { results: 1 } }).expect(202);
    const tracking = api.app.get(TrackingPort);
    const run = await tracking.startRun(`e2e-results-${Date.now()}`, job.body.job_id, { job_id: job.body.job_id });
    await tracking.logMetrics(run.runId, [{ key: 'image_AUROC', value: 0.93 }]);
    await api.app.get(JobStatusPort).update(job.body.job_id, { status: 'completed', runId: run.runId, experimentId: run.experimentId });

    const results = await request(api.server).get(`/jobs/${job.body.job_id}/results`).set(auth('alice')).expect(200);
    const base = api.config.mlflowPublicUri.replace(/\/+$/, '');
    expect(results.body).toEqual({
      job_id: job.body.job_id,
      status: 'completed',
      run_id: run.runId,
      experiment_id: run.experimentId,
      benchmark: null,
      scores: null,
      reported_metrics: { image_AUROC: 0.93 },
      metrics: { image_AUROC: 0.93 },
      mlflow_ui_link: `${base}/#/experiments/${run.experimentId}/runs/${run.runId}`,
      mlflow_rest_link: `${base}/api/2.0/mlflow/runs/get?run_id=${run.runId}`,
    });
    const viaRest = (await fetch(results.body.mlflow_rest_link).then((response) => response.json())) as { run: { info: { experiment_id: string } } };
    expect(viaRest.run.info.experiment_id).toBe(run.experimentId);
  });
});

describe('jobs API rate limits (real Redis)', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ RATE_LIMIT_JOBS_PER_HOUR: '4', RATE_LIMIT_CONCURRENT_JOBS: '3' });
  });
  afterAll(async () => {
    await api.close();
  });

  async function submit(user: 'alice' | 'bob'): Promise<string> {
    const response = await request(api.server).post('/submissions').set(auth(user)).attach('files', Buffer.from('print(1)'), 'main.py').expect(201);
    return response.body.submission_id;
  }

  it('lets exactly 3 of 10 parallel requests in, and says which limit stopped the rest', async () => {
    const submissionId = await submit('alice');
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        request(api.server).post('/jobs').set(auth('alice')).set('Idempotency-Key', `burst-${index}`).send({ submission_id: submissionId }),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([202, 202, 202, 429, 429, 429, 429, 429, 429, 429]);
    const refused = responses.find((response) => response.status === 429)!;
    expect(refused.body.message).toContain('concurrent job limit reached: at most 3 jobs pending or running');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    // A duplicate of an admitted request is answered even at the limit: it counts against nothing.
    const admittedIndex = responses.findIndex((response) => response.status === 202);
    const replay = await request(api.server)
      .post('/jobs')
      .set(auth('alice'))
      .set('Idempotency-Key', `burst-${admittedIndex}`)
      .send({ submission_id: submissionId })
      .expect(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.job_id).toBe(responses[admittedIndex].body.job_id);
  });

  it('refuses past the hourly limit with Retry-After, even after jobs finish', async () => {
    const submissionId = await submit('bob');
    const jobIds: string[] = [];
    // Each job finishes at once, so only the hourly limit can stop the fifth.
    for (let index = 0; index < 4; index += 1) {
      const response = await request(api.server).post('/jobs').set(auth('bob')).set('Idempotency-Key', `hour-${index}`).send({ submission_id: submissionId }).expect(202);
      jobIds.push(response.body.job_id);
      await api.app.get(JobStatusPort).update(response.body.job_id, { status: 'completed' });
    }
    const refused = await request(api.server).post('/jobs').set(auth('bob')).set('Idempotency-Key', 'hour-5').send({ submission_id: submissionId }).expect(429);
    expect(refused.body.message).toContain('hourly job limit reached: at most 4 new jobs per rolling hour');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    const duplicate = await request(api.server).post('/jobs').set(auth('bob')).set('Idempotency-Key', 'hour-0').send({ submission_id: submissionId }).expect(202);
    expect(duplicate.body.job_id).toBe(jobIds[0]);
  });
});
