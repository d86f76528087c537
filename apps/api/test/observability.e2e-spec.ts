import { Logger } from '@nestjs/common';
import { createRootLogger } from '@app/adapters';
import { CreateSubmission, JobStatusPort } from '@app/domain';
import { readScrape, valueOf } from '../../../test/prometheus';
import { auth, RunningApi, startApi, TOKENS } from './harness';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** Log lines the API wrote, as parsed JSON (every line must be JSON). */
class CapturedLog {
  readonly text: string[] = [];
  write(line: string): void {
    this.text.push(line);
  }
  lines(): Record<string, unknown>[] {
    return this.text.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

describe('operators: /metrics, request ids and JSON logs (real API on a port, real Redis)', () => {
  let api: RunningApi;
  const log = new CapturedLog();

  beforeAll(async () => {
    api = await startApi({ METRICS_TOKEN, RATE_LIMIT_CONCURRENT_JOBS: '10' }, { logDestination: log });
  });
  afterAll(async () => {
    await api?.close();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${api.url}${path}`, init);
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  async function scrape() {
    const response = await call('/metrics', { headers: bearer(METRICS_TOKEN) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return readScrape(await response.text());
  }
  async function queueJob(): Promise<string> {
    const form = new FormData();
    form.append('files', new Blob(['print("hi")\n']), 'main.py');
    const submission = await call('/submissions', { method: 'POST', headers: auth('alice'), body: form });
    expect(submission.status).toBe(201);
    const { submission_id } = (await submission.json()) as { submission_id: string };
    const job = await call('/jobs', { method: 'POST', headers: { ...auth('alice'), 'Content-Type': 'application/json' }, body: JSON.stringify({ submission_id }) });
    expect(job.status).toBe(202);
    return ((await job.json()) as { job_id: string }).job_id;
  }

  it('refuses /metrics without a token, with a plain user token or a wrong one, and says what to send', async () => {
    const none = await call('/metrics');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toMatch(/\/metrics needs a token; send "Authorization: Bearer <METRICS_TOKEN>"/);
    const user = await call('/metrics', { headers: auth('alice') });
    expect(user.status).toBe(403);
    expect(((await user.json()) as { message: string }).message).toMatch(/alice may not read \/metrics: only admins \(ADMIN_USERS\) may, or the holder of METRICS_TOKEN/);
    expect((await call('/metrics', { headers: bearer('not-the-metrics-token-at-all') })).status).toBe(401);
    const admin = await call('/metrics', { headers: auth('admin') });
    expect(admin.status).toBe(200);
    // The process metrics come with ours.
    const { samples } = readScrape(await admin.text());
    expect(samples.has('process_cpu_user_seconds_total')).toBe(true);
    expect(samples.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts requests by route template and status, never by raw path', async () => {
    const jobId = await queueJob();
    const before = (await scrape()).samples;
    for (let i = 0; i < 3; i++) expect((await call(`/jobs/${jobId}/status`, { headers: auth('alice') })).status).toBe(200);
    expect((await call('/jobs/no-such-job/status', { headers: auth('alice') })).status).toBe(404);
    expect((await call(`/no/such/path/${jobId}`)).status).toBe(404);
    const after = (await scrape()).samples;
    const route = { method: 'GET', route: '/jobs/:id/status' };
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('leaderboard_http_requests_total', { ...route, status: '200' })).toBe(3);
    expect(delta('leaderboard_http_requests_total', { ...route, status: '404' })).toBe(1);
    expect(delta('leaderboard_http_request_duration_seconds_count', { ...route, status: '200' })).toBe(3);
    expect(delta('leaderboard_http_request_duration_seconds_bucket', { ...route, status: '200', le: '+Inf' })).toBe(3);
    expect(delta('leaderboard_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    const routes = new Set((after.get('leaderboard_http_requests_total') ?? []).map((sample) => sample.labels.route));
    expect([...routes].filter((label) => label.includes(jobId) || label.includes('no-such'))).toEqual([]);
  });

  it('shows queued jobs as queue depth and pending jobs (no worker runs here)', async () => {
    const before = (await scrape()).samples;
    await queueJob();
    await queueJob();
    const after = (await scrape()).samples;
    expect(valueOf(after, 'leaderboard_queue_jobs', { state: 'waiting' }) - valueOf(before, 'leaderboard_queue_jobs', { state: 'waiting' })).toBe(2);
    expect(valueOf(after, 'leaderboard_jobs', { state: 'pending' }) - valueOf(before, 'leaderboard_jobs', { state: 'pending' })).toBe(2);
    expect(valueOf(after, 'leaderboard_jobs', { state: 'running' })).toBe(0);
  });

  it('echoes a safe X-Request-Id, replaces an unsafe one, and logs it with the user and the job', async () => {
    const jobId = await queueJob();
    const response = await call(`/jobs/${jobId}/status`, { headers: { ...auth('alice'), 'X-Request-Id': 'trace-42.a:b_c' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42.a:b_c');
    const unsafe = await call('/healthz', { headers: { 'X-Request-Id': 'no spaces <or> "quotes"' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call('/healthz', { headers: { 'X-Request-Id': 'x'.repeat(65) } })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Errors too: from the guard, and from the header checks that run before any route.
    expect((await call('/jobs')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const twice = await call('/jobs', { headers: [['Authorization', `Bearer ${TOKENS.alice}`], ['Authorization', `Bearer ${TOKENS.bob}`], ['X-Request-Id', 'dup-auth']] });
    expect(twice.status).toBe(400);
    expect(twice.headers.get('x-request-id')).toBe('dup-auth');

    await waitFor(() => log.lines().some((line) => line.request_id === 'trace-42.a:b_c'));
    const line = log.lines().find((entry) => entry.request_id === 'trace-42.a:b_c');
    expect(line).toMatchObject({ level: 'info', service: 'api', user: 'alice', job_id: jobId, method: 'GET', route: '/jobs/:id/status', status: 200 });
    expect(typeof line!.duration_ms).toBe('number');
    // Refused before routing: no route template is known yet.
    expect(log.lines().find((entry) => entry.request_id === 'dup-auth')).toMatchObject({ status: 400, route: 'unmatched', path: '/jobs' });
  });

  it('gives every line written while serving a request its request id, user and job, across awaits and uploads', async () => {
    const status = jest.spyOn(api.app.get(JobStatusPort), 'get').mockImplementation(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      new Logger('Probe').log('reading a status');
      throw new Error('status store exploded');
    });
    const submissions = api.app.get(CreateSubmission);
    const create = submissions.execute.bind(submissions);
    const upload = jest.spyOn(submissions, 'execute').mockImplementation((...args) => {
      new Logger('Probe').log('storing an upload');
      return create(...args);
    });
    try {
      expect((await call('/jobs/job-7/status', { headers: { ...auth('alice'), 'X-Request-Id': 'ctx-status' } })).status).toBe(500);
      const form = new FormData();
      form.append('files', new Blob(['print(1)\n']), 'main.py');
      expect((await call('/submissions', { method: 'POST', headers: { ...auth('bob'), 'X-Request-Id': 'ctx-upload' }, body: form })).status).toBe(201);
    } finally {
      status.mockRestore();
      upload.mockRestore();
    }
    await waitFor(() => log.lines().filter((line) => line.request_id === 'ctx-upload').length >= 2);
    const of = (id: string) => log.lines().filter((line) => line.request_id === id);
    expect(of('ctx-status')).toEqual([
      expect.objectContaining({ context: 'Probe', msg: 'reading a status', user: 'alice', job_id: 'job-7' }),
      expect.objectContaining({ context: 'Errors', level: 'error', user: 'alice', job_id: 'job-7', msg: expect.stringContaining('status store exploded') }),
      expect.objectContaining({ route: '/jobs/:id/status', status: 500, level: 'error', user: 'alice', job_id: 'job-7' }),
    ]);
    expect(of('ctx-upload')).toEqual([
      expect.objectContaining({ context: 'Probe', msg: 'storing an upload', user: 'bob' }),
      expect.objectContaining({ route: '/submissions', status: 201, user: 'bob' }),
    ]);
  });

  it('writes JSON lines with time and level, existing Nest loggers included, and never a token', async () => {
    new Logger('Probe').warn('a line from a plain Nest logger');
    // A wrong token, the metrics token, admin's and a user's all went through this app.
    await call('/jobs', { headers: bearer('wrong-token-should-not-be-logged') });
    await waitFor(() => log.lines().some((line) => line.msg === 'a line from a plain Nest logger'));
    const lines = log.lines();
    expect(lines.find((line) => line.msg === 'a line from a plain Nest logger')).toMatchObject({ level: 'warn', context: 'Probe', service: 'api' });
    for (const line of lines) {
      expect(typeof line.time).toBe('string');
      expect(typeof line.level).toBe('string');
    }
    const all = log.text.join('');
    for (const secret of [METRICS_TOKEN, TOKENS.alice, TOKENS.admin, TOKENS.bob, 'wrong-token-should-not-be-logged']) expect(all).not.toContain(secret);
  });

  it('redacts credentials from any object logged whole', () => {
    const lines: string[] = [];
    const root = createRootLogger('api', { logFormat: 'json', logLevel: 'info' }, { write: (line: string) => void lines.push(line) });
    root.info({ req: { headers: { authorization: `Bearer ${TOKENS.alice}`, cookie: 'session=abc123' } }, config: { apiTokens: [TOKENS.bob], metricsToken: METRICS_TOKEN } }, 'whole objects');
    expect(lines.join('')).not.toMatch(new RegExp(`${TOKENS.alice}|${TOKENS.bob}|${METRICS_TOKEN}|abc123`));
    expect(JSON.parse(lines[0])).toMatchObject({ req: { headers: { authorization: '[redacted]', cookie: '[redacted]' } }, config: { apiTokens: '[redacted]', metricsToken: '[redacted]' } });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
