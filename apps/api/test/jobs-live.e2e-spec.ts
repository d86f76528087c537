import request from 'supertest';
import { StoragePort } from '@app/domain';
import { freePort, isFinished, runCode, RunningWorker, sleep, startWorker, stopWorker, waitForJob } from '../../worker/test/worker-harness';
import { LogFollowHub } from '../src/jobs/log-follow-hub';
import { auth, RunningApi, startApi } from './harness';
import { logText, openSse, SseStream } from './sse-reader';

// Real worker and sandbox, real MLflow and Redis, the API listening on a port.
jest.setTimeout(60_000);

/** Prints for about 2 s (stdout and stderr, a carriage return, non-ASCII) and logs 3 steps of a metric. */
const CHATTY = `import argparse, sys, time, mlflow
parser = argparse.ArgumentParser()
parser.add_argument('--config'); parser.add_argument('--output')
parser.parse_args()
with mlflow.start_run():
    for step in range(3):
        mlflow.log_metric('loss', 1.0 / (step + 1), step=step)
for i in range(40):
    print('line %03d ü progress\\r done <b>' % i, flush=True)
    if i % 10 == 0:
        print('warning %d' % i, file=sys.stderr, flush=True)
    time.sleep(0.05)
print('bye', flush=True)
`;

function follow(api: RunningApi, jobId: string, query = '', headers: Record<string, string> = {}, user: 'alice' | 'bob' = 'alice'): Promise<SseStream> {
  return openSse(api.url, `/jobs/${jobId}/logs?follow=true${query}`, { ...auth(user), ...headers });
}

async function fullLog(api: RunningApi, jobId: string): Promise<string> {
  return (await request(api.server).get(`/jobs/${jobId}/logs`).set(auth('alice')).expect(200)).text;
}

/** Each log event's id is the byte offset after it: the running total of UTF-8 bytes sent. */
function expectIdsAreOffsets(stream: SseStream, from: number): void {
  let offset = from;
  for (const event of stream.events.filter((candidate) => candidate.event === 'message')) {
    offset += Buffer.byteLength((JSON.parse(event.data) as { text: string }).text);
    expect(Number(event.id)).toBe(offset);
  }
}

describe('live logs, re-runs and metric histories', () => {
  let api: RunningApi;
  let worker: RunningWorker;
  let jobId: string;
  let log: string;
  const first: { early?: SseStream; late?: SseStream } = {};

  beforeAll(async () => {
    api = await startApi({ RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '100' });
    worker = await startWorker(api, { JOB_TIMEOUT_SMALL_S: '60', JOB_MEMORY_SMALL_MB: '1024' });
    jobId = await runCode(api, { 'main.py': CHATTY }, { config: { lr: 0.5 }, resource_class: 'small', benchmark: null });
    // One follower from before the job starts, one that joins mid-run from the beginning.
    first.early = await follow(api, jobId);
    await waitForJob(api, jobId, (job) => job.status === 'running');
    await sleep(700);
    first.late = await follow(api, jobId);
    await Promise.all([first.early.ended, first.late.ended]);
    await waitForJob(api, jobId, isFinished);
    log = await fullLog(api, jobId);
  });
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    await api?.close();
  });

  describe('GET /jobs/{id}/logs?follow=true', () => {
    it('streams every byte exactly once and in order to two followers, then ends with the final status', () => {
      expect(log).toMatch(/line 000 ü progress\r done <b>\n[\s\S]*warning 30\n[\s\S]*bye\n$/);
      for (const stream of [first.early!, first.late!]) {
        expect(stream.status).toBe(200);
        expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        expect(logText(stream)).toBe(log);
        expectIdsAreOffsets(stream, 0);
        expect(stream.events.at(-1)).toEqual({ event: 'end', id: String(Buffer.byteLength(log)), data: JSON.stringify({ status: 'completed', error_message: null }) });
      }
      // The early follower saw the job run: more than one piece, not one read at the end.
      expect(first.early!.events.filter((event) => event.event === 'message').length).toBeGreaterThan(3);
    });

    it('resumes from ?offset= and from Last-Event-ID (which wins), and ends at once for a final job', async () => {
      const middle = 150;
      const cut = Buffer.byteLength(log.slice(0, middle));
      const fromOffset = await follow(api, jobId, `&offset=${cut}`);
      await fromOffset.ended;
      expect(fromOffset.headers['x-next-offset']).toBe(String(cut));
      expect(fromOffset.headers['x-log-size']).toBe(String(Buffer.byteLength(log)));
      expect(logText(fromOffset)).toBe(log.slice(middle));
      expectIdsAreOffsets(fromOffset, cut);
      const resumed = await follow(api, jobId, '&offset=0', { 'Last-Event-ID': String(cut) });
      await resumed.ended;
      expect(logText(resumed)).toBe(log.slice(middle));
      const atEnd = await follow(api, jobId, '', { 'Last-Event-ID': String(Buffer.byteLength(log)) });
      await atEnd.ended;
      expect(atEnd.events.map((event) => event.event)).toEqual(['end']);
    });

    it('answers 403, 404 and 400 as JSON like the logs route, and keeps the plain text answer without follow', async () => {
      const cases: [SseStream, number][] = [
        [await follow(api, jobId, '', {}, 'bob'), 403],
        [await follow(api, 'no-such-job'), 404],
        [await openSse(api.url, `/jobs/${jobId}/logs?follow=maybe`, auth('alice')), 400],
        [await follow(api, jobId, '', { 'Last-Event-ID': 'abc' }), 400],
        [await follow(api, jobId, '&offset=-1'), 400],
        [await openSse(api.url, `/jobs/${jobId}/logs`, { ...auth('alice'), 'Last-Event-ID': 'x' }), 400],
      ];
      for (const [stream, status] of cases) {
        await stream.ended;
        expect({ status: stream.status, type: stream.headers['content-type'] }).toEqual({ status, type: expect.stringMatching(/^application\/json/) });
      }
      const plain = await request(api.server).get(`/jobs/${jobId}/logs?follow=false&offset=5`).set(auth('alice')).expect(200);
      expect(plain.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(plain.text).toBe(Buffer.from(log).subarray(5).toString('utf8'));
      expect(plain.headers['x-next-offset']).toBe(String(Buffer.byteLength(log)));
    });
  });

  describe('POST /jobs/{id}/rerun', () => {
    it('queues a new job with the same submission, config, class and benchmark, for the owner even when an admin asks', async () => {
      const original = (await request(api.server).get(`/jobs/${jobId}/status`).set(auth('alice')).expect(200)).body;
      const again = await request(api.server).post(`/jobs/${jobId}/rerun`).set(auth('alice')).expect(202);
      expect(again.body.job_id).not.toBe(jobId);
      expect(again.headers.location).toBe(`/jobs/${again.body.job_id}/status`);
      const same = ['submission_id', 'user_id', 'config', 'resource_class', 'benchmark', 'entrypoint'];
      const pick = (job: Record<string, unknown>) => Object.fromEntries(same.map((key) => [key, job[key]]));
      expect(pick(again.body)).toEqual(pick(original));
      expect(again.body.status).toBe('pending');
      const byAdmin = await request(api.server).post(`/jobs/${jobId}/rerun`).set(auth('admin')).expect(202);
      expect(byAdmin.body.user_id).toBe('alice');
      for (const id of [again.body.job_id, byAdmin.body.job_id]) await request(api.server).post(`/jobs/${id}/cancel`).set(auth('alice'));
      expect((await request(api.server).post(`/jobs/${jobId}/rerun`).set(auth('bob')).expect(403)).body.message).toMatch(/belongs to another user/);
      await request(api.server).post('/jobs/no-such-job/rerun').set(auth('alice')).expect(404);
    });
  });

  describe('GET /jobs/{id}/metrics', () => {
    it("gives each metric's history, owner and admin only", async () => {
      const { body } = await request(api.server).get(`/jobs/${jobId}/metrics`).set(auth('alice')).expect(200);
      expect(body).toMatchObject({ job_id: jobId, run_id: expect.any(String), truncated: [], omitted: [] });
      expect(body.metrics.loss.map((point: { step: number; value: number }) => [point.step, point.value])).toEqual([
        [0, 1],
        [1, 0.5],
        [2, 1 / 3],
      ]);
      expect(body.metrics.loss[0].timestamp).toEqual(expect.any(Number));
      await request(api.server).get(`/jobs/${jobId}/metrics`).set(auth('admin')).expect(200);
      await request(api.server).get(`/jobs/${jobId}/metrics`).set(auth('bob')).expect(403);
      await request(api.server).get('/jobs/no-such-job/metrics').set(auth('alice')).expect(404);
    });

    it('is a 503 that says what still works while MLflow is down, where status and logs still answer', async () => {
      const blind = await startApi({ ...api.env, MLFLOW_TRACKING_URI: `http://127.0.0.1:${await freePort()}` });
      try {
        const down = await request(blind.server).get(`/jobs/${jobId}/metrics`).set(auth('alice')).expect(503);
        expect(down.body.message).toMatch(/^the tracking server is unavailable: .*; the job's status and logs still work$/);
        await request(blind.server).get(`/jobs/${jobId}/status`).set(auth('alice')).expect(200);
        await request(blind.server).get(`/jobs/${jobId}/logs`).set(auth('alice')).expect(200);
      } finally {
        await blind.close();
      }
    });
  });

  describe('without a worker: pending jobs', () => {
    let idle: RunningApi;
    let pendingId: string;

    beforeAll(async () => {
      idle = await startApi({ RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '1' });
      pendingId = await runCode(idle, { 'main.py': 'print(1)\n' });
    });
    afterAll(async () => idle?.close());

    it('metrics are a 409 before the job has a run', async () => {
      expect((await request(idle.server).get(`/jobs/${pendingId}/metrics`).set(auth('alice')).expect(409)).body.message).toMatch(/no metrics yet: it is pending/);
    });

    it('a re-run over the limit is a 429 with Retry-After; one whose submission was deleted is a 409', async () => {
      const limited = await request(idle.server).post(`/jobs/${pendingId}/rerun`).set(auth('alice')).expect(429);
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect(limited.body.message).toMatch(/concurrent job limit/);
      const status = (await request(idle.server).get(`/jobs/${pendingId}/status`).set(auth('alice'))).body;
      await idle.app.get(StoragePort).remove(status.submission_id);
      expect((await request(idle.server).post(`/jobs/${pendingId}/rerun`).set(auth('alice')).expect(409)).body.message).toMatch(/was deleted/);
    });

    it('a follower that disconnects takes its tailer with it', async () => {
      const hub = idle.app.get(LogFollowHub);
      const one = await follow(idle, pendingId);
      const two = await follow(idle, pendingId);
      expect(one.status).toBe(200);
      expect(hub.tailedJobs()).toEqual([pendingId]);
      one.close();
      await sleep(200);
      expect(hub.tailedJobs()).toEqual([pendingId]);
      two.close();
      const deadline = Date.now() + 2000;
      while (hub.tailedJobs().length > 0 && Date.now() < deadline) await sleep(20);
      expect(hub.tailedJobs()).toEqual([]);
      expect([...one.events, ...two.events]).toEqual([]);
    });
  });
});
