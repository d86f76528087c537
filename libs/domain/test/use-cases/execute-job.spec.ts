import { ExecuteJob, JobPayload, ResourceClass } from '@app/domain';
import { FixedClock } from '../fakes/fixed-clock';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';
import { InMemoryStorage } from '../fakes/in-memory-storage';
import { InMemoryTracking } from '../fakes/in-memory-tracking';
import { ScriptedSandbox } from '../fakes/scripted-sandbox';
import { fakeRanking } from '../fakes/ranking';

const limits = {
  small: { timeoutSeconds: 1, memoryMb: 512, pidsMax: 64 },
  medium: { timeoutSeconds: 2, memoryMb: 8192, pidsMax: 128 },
};

describe('ExecuteJob', () => {
  let status: InMemoryJobStatus;
  let storage: InMemoryStorage;
  let tracking: InMemoryTracking;
  let sandbox: ScriptedSandbox;
  let useCase: ExecuteJob;

  beforeEach(async () => {
    status = new InMemoryJobStatus();
    storage = new InMemoryStorage();
    tracking = new InMemoryTracking();
    sandbox = new ScriptedSandbox();
    useCase = new ExecuteJob(status, storage, tracking, sandbox, new FixedClock(), fakeRanking(), { experimentName: 'leaderboard', limits });
  });

  async function queued(entrypoint: string, config = {}, resourceClass: ResourceClass = 'small'): Promise<JobPayload> {
    const uploads = [storage.stageIncoming(entrypoint, ''), storage.stageIncoming('config.yaml', 'lr: 0.1\nmodel:\n  depth: 2\n')];
    await storage.save('sub-1', uploads);
    await storage.saveMetadata({ submissionId: 'sub-1', userId: 'alice', entrypoint, configFile: 'config.yaml', files: [], metadata: {}, createdAt: 'then' });
    await status.create(
      { jobId: 'job-1', submissionId: 'sub-1', userId: 'alice', entrypoint, configFile: 'config.yaml', config, resourceClass, benchmark: null, createdAt: 'then' },
      { jobsPerHour: 10, concurrentJobs: 10 },
      Date.now(),
    );
    return { job_id: 'job-1', submission_id: 'sub-1', entrypoint, config_file: 'config.yaml', config, resource_class: resourceClass };
  }

  it('completes a successful run: tracking run tagged, config merged, log uploaded, run FINISHED', async () => {
    const payload = await queued('succeed.py', { model: { depth: 5 }, seed: 1 });
    const execution = await useCase.execute(payload, new AbortController().signal);
    expect(execution).toMatchObject({ outcome: 'finished', job: { status: 'completed', errorMessage: null, finishedAt: expect.any(String) } });
    const job = await status.get('job-1');
    const run = tracking.runs.get(job!.runId!)!;
    expect(run).toMatchObject({ status: 'FINISHED', tags: { user_id: 'alice', submission_id: 'sub-1', job_id: 'job-1' } });
    expect(run.params).toEqual({ lr: '0.1', 'model.depth': '5', seed: '1' });
    expect(storage.effectiveConfigs.get('job-1')).toEqual({ lr: 0.1, model: { depth: 5 }, seed: 1 });
    expect(job!.experimentId).toBe(run.experimentId);
    const request = sandbox.requests[0];
    expect(request).toMatchObject({ entrypoint: 'succeed.py', limits: limits.small, env: { MLFLOW_RUN_ID: job!.runId, MLFLOW_EXPERIMENT_ID: run.experimentId } });
  });

  it('uses the limits of the resource class and the slot\'s GPU', async () => {
    await useCase.execute(await queued('succeed.py', {}, 'medium'), new AbortController().signal, '1');
    expect(sandbox.requests[0]).toMatchObject({ limits: limits.medium, gpu: '1' });
  });

  it.each([
    [{ kind: 'timeout', seconds: 1800 }, 'timeout after 1800 s'],
    [{ kind: 'out_of_memory', limitMb: 8192 }, 'out of memory (limit 8 GiB)'],
    [{ kind: 'process_limit', pidsMax: 64 }, 'process limit reached (at most 64 processes)'],
    [{ kind: 'sandbox_error', message: 'bwrap: No permissions to create new namespace' }, 'sandbox could not start: bwrap: No permissions to create new namespace'],
  ] as const)('fails with a message a person understands: %j', async (outcome, message) => {
    sandbox.outcomes.set('bad.py', outcome);
    const execution = await useCase.execute(await queued('bad.py'), new AbortController().signal);
    expect(execution).toMatchObject({ job: { status: 'failed', errorMessage: message } });
    const job = await status.get('job-1');
    expect(tracking.runs.get(job!.runId!)?.status).toBe('FAILED');
  });

  it('fails with the exit code and the end of stderr', async () => {
    const execution = await useCase.execute(await queued('exit3.py'), new AbortController().signal);
    expect(execution).toMatchObject({ job: { status: 'failed', errorMessage: 'exit code 3: bad input' } });
  });

  it('ends cancelled with the run KILLED when a user cancels mid-run', async () => {
    const controller = new AbortController();
    sandbox.onStart = () => setTimeout(() => controller.abort('cancel'), 10);
    const execution = await useCase.execute(await queued('hang.py'), controller.signal);
    expect(execution).toMatchObject({ job: { status: 'cancelled' } });
    expect([...tracking.runs.values()][0].status).toBe('KILLED');
  });

  it('puts the job back to pending on worker shutdown, run KILLED', async () => {
    const controller = new AbortController();
    sandbox.onStart = () => setTimeout(() => controller.abort('shutdown'), 10);
    expect(await useCase.execute(await queued('hang.py'), controller.signal)).toEqual({ outcome: 'requeue' });
    expect(await status.get('job-1')).toMatchObject({ status: 'pending', runId: null, startedAt: null });
    expect([...tracking.runs.values()][0].status).toBe('KILLED');
  });

  it('does not run a job that was cancelled before a worker took it', async () => {
    const payload = await queued('succeed.py');
    await status.update('job-1', { status: 'cancelled' });
    expect(await useCase.execute(payload, new AbortController().signal)).toMatchObject({ outcome: 'skipped' });
    expect(sandbox.requests).toHaveLength(0);
  });

  it('does not blame the user when the tracking server is down: the job goes back to the queue', async () => {
    tracking.unavailable = true;
    const execution = await useCase.execute(await queued('succeed.py'), new AbortController().signal);
    // The rest of this story is in execute-job-platform-faults.spec.ts.
    expect(execution).toMatchObject({ outcome: 'retry', service: 'MLflow', reason: expect.stringMatching(/^MLflow tracking server .* unreachable/) });
    expect(await status.get('job-1')).toMatchObject({ status: 'pending', errorMessage: null });
    expect(sandbox.requests).toHaveLength(0);
  });

  it('fails the job when the submission config cannot be parsed', async () => {
    const payload = await queued('succeed.py');
    await storage.remove('sub-1');
    await storage.save('sub-1', [storage.stageIncoming('succeed.py', ''), storage.stageIncoming('config.yaml', '- not\n- a mapping\n')]);
    await storage.saveMetadata({ submissionId: 'sub-1', userId: 'alice', entrypoint: 'succeed.py', configFile: 'config.yaml', files: [], metadata: {}, createdAt: 'then' });
    const execution = await useCase.execute(payload, new AbortController().signal);
    expect(execution).toMatchObject({ job: { status: 'failed', errorMessage: expect.stringContaining('must hold a mapping') } });
    expect([...tracking.runs.values()][0].status).toBe('FAILED');
  });

  it('re-runs a job whose earlier attempt was lost, failing the old run', async () => {
    const payload = await queued('succeed.py');
    const lost = await tracking.startRun('leaderboard', 'job-1', {});
    await status.update('job-1', { status: 'running', runId: lost.runId });
    await useCase.execute(payload, new AbortController().signal);
    expect(tracking.runs.get(lost.runId)?.status).toBe('FAILED');
    expect((await status.get('job-1'))?.status).toBe('completed');
  });
});
