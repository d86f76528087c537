import { Caller, Conflict, Forbidden, GetJobLogs, GetJobResults, GetJobStatus, Invalid, ListJobs, NotFound } from '@app/domain';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';
import { InMemoryStorage } from '../fakes/in-memory-storage';
import { InMemoryTracking } from '../fakes/in-memory-tracking';

const alice = new Caller('alice', false);
const bob = new Caller('bob', false);
const admin = new Caller('root', true);
const roomy = { jobsPerHour: 100, concurrentJobs: 100 };

async function seed(status: InMemoryJobStatus, jobId: string, userId = 'alice') {
  await status.create(
    { jobId, submissionId: 's', userId, entrypoint: 'main.py', configFile: null, config: {}, resourceClass: 'small', benchmark: null, createdAt: 'now' },
    roomy,
    Date.now(),
  );
}

describe('reading jobs', () => {
  let status: InMemoryJobStatus;
  let storage: InMemoryStorage;
  let tracking: InMemoryTracking;
  let getStatus: GetJobStatus;

  beforeEach(async () => {
    status = new InMemoryJobStatus();
    storage = new InMemoryStorage();
    tracking = new InMemoryTracking();
    getStatus = new GetJobStatus(status);
    await seed(status, 'job-1');
  });

  it('GetJobStatus: owner and admin read, others get 403, unknown 404', async () => {
    expect((await getStatus.execute(alice, 'job-1')).jobId).toBe('job-1');
    expect((await getStatus.execute(admin, 'job-1')).jobId).toBe('job-1');
    await expect(getStatus.execute(bob, 'job-1')).rejects.toBeInstanceOf(Forbidden);
    await expect(getStatus.execute(alice, 'job-x')).rejects.toBeInstanceOf(NotFound);
  });

  it('ListJobs: only admins list everyone; paging is checked', async () => {
    await seed(status, 'job-2', 'bob');
    const listJobs = new ListJobs(status);
    expect((await listJobs.execute(alice, { offset: 0, limit: 10, allUsers: false })).total).toBe(1);
    expect((await listJobs.execute(admin, { offset: 0, limit: 10, allUsers: true })).total).toBe(2);
    await expect(listJobs.execute(alice, { offset: 0, limit: 10, allUsers: true })).rejects.toBeInstanceOf(Forbidden);
    await expect(listJobs.execute(alice, { offset: -1, limit: 0, allUsers: false })).rejects.toBeInstanceOf(Invalid);
  });

  it('GetJobLogs: reads from an offset, empty before the job wrote anything', async () => {
    const logs = new GetJobLogs(getStatus, storage);
    expect(await logs.execute(alice, 'job-1', 0)).toEqual({ text: '', nextOffset: 0, size: 0 });
    storage.writeLog('job-1', 'epoch 1\nepoch 2\n');
    const first = await logs.execute(alice, 'job-1', 0);
    expect(first.text).toBe('epoch 1\nepoch 2\n');
    expect((await logs.execute(alice, 'job-1', 8)).text).toBe('epoch 2\n');
    await expect(logs.execute(bob, 'job-1', 0)).rejects.toBeInstanceOf(Forbidden);
  });

  it('GetJobResults: links use the run\'s real experiment id', async () => {
    const results = new GetJobResults(getStatus, tracking, 'http://mlflow.example:5010/');
    await expect(results.execute(alice, 'job-1')).rejects.toBeInstanceOf(Conflict);
    const run = await tracking.startRun('leaderboard', 'job-1', {});
    await tracking.logMetrics(run.runId, [
      { key: 'image_AUROC', value: 0.91 },
      { key: 'leaderboard.image_AUROC', value: 0.75 },
    ]);
    await status.update('job-1', { status: 'completed', runId: run.runId, experimentId: run.experimentId, scores: { image_AUROC: 0.75 } });
    expect(await results.execute(alice, 'job-1')).toMatchObject({
      runId: run.runId,
      experimentId: run.experimentId,
      // Official scores from the job record; the run's own metrics, minus the official copies, as reported.
      scores: { image_AUROC: 0.75 },
      reportedMetrics: { image_AUROC: 0.91 },
      mlflowUiLink: `http://mlflow.example:5010/#/experiments/${run.experimentId}/runs/${run.runId}`,
      mlflowRestLink: `http://mlflow.example:5010/api/2.0/mlflow/runs/get?run_id=${run.runId}`,
    });
  });
});
