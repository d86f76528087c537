import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { auth, RunningApi, startApi } from '../../api/test/harness';
import { isFinished, runCode, RunningWorker, startWorker, stopWorker, waitForJob } from './worker-harness';

jest.setTimeout(120_000);

/** 'medium' is the tight class: 20 MB of output, half a core, a 1 MB log. */
const LIMITS = {
  JOB_TIMEOUT_SMALL_S: '60',
  JOB_MEMORY_SMALL_MB: '1024',
  JOB_TIMEOUT_MEDIUM_S: '60',
  JOB_MEMORY_MEDIUM_MB: '512',
  JOB_OUTPUT_MB_MEDIUM: '20',
  JOB_CPUS_MEDIUM: '0.5',
  JOB_LOG_MB: '1',
};

const FILLS_OUTPUT = `
chunk = b"z" * (1 << 20)
with open("/output/big.bin", "wb") as out:
    for _ in range(200):
        out.write(chunk)
`;

const FLOODS_STDOUT = `
import os
print("start", flush=True)
line = b"l" * 1023 + b"\\n"
for _ in range(100 * 1024):
    os.write(1, line)
`;

describe('worker: caps on output, log and CPU (real Redis, MLflow, sandbox)', () => {
  let api: RunningApi;
  let worker: RunningWorker;

  beforeAll(async () => {
    api = await startApi({ ...LIMITS, RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '100' });
    worker = await startWorker(api);
  });
  afterAll(async () => {
    await stopWorker(worker);
    await api.close();
  });

  it('says on start how output and CPU are capped', () => {
    expect(worker.output()).toMatch(/cgroup v1 \(memory, pids, cpu\), output capped by a filesystem per run/);
  });

  it('fails a job that writes past its class\'s output cap with "output limit exceeded (20 MB)", leaving no mount behind', async () => {
    const job = await waitForJob(api, await runCode(api, { 'main.py': FILLS_OUTPUT }, { resource_class: 'medium' }), isFinished);
    expect(job).toMatchObject({ status: 'failed', error_message: 'output limit exceeded (20 MB)' });
    const workDir = api.config.workerWorkDir;
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(workDir);
    // The worker's staging root holds no image or slot once the run is over.
    const stages = readdirSync(workDir).filter((name) => name.startsWith('stage-'));
    expect(stages).toHaveLength(1);
    expect(readdirSync(path.join(workDir, stages[0])).filter((name) => name.startsWith('output-') || name.startsWith('slot-'))).toEqual([]);
  });

  it('keeps 1 MB of a job that prints 100 MB and completes it; the log ends with the marker', async () => {
    const job = await waitForJob(api, await runCode(api, { 'main.py': FLOODS_STDOUT }, { resource_class: 'medium' }), isFinished);
    expect(job).toMatchObject({ status: 'completed', error_message: null });
    const logs = (await request(api.server).get(`/jobs/${job.job_id}/logs`).set(auth('alice')).expect(200)).text;
    expect(logs.startsWith('start\n')).toBe(true);
    expect(logs.endsWith('[leadersboard: log cut at 1 MB; the rest of the output was discarded]\n')).toBe(true);
    expect(Buffer.byteLength(logs)).toBeLessThanOrEqual(2 ** 20 + 200);
  });
});
