import { CancelJob, CancelSignalPort, Caller, Conflict, GetJobStatus, ReapJobs } from '@app/domain';
import { FixedClock } from '../fakes/fixed-clock';
import { InMemoryJobQueue } from '../fakes/in-memory-job-queue';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';

class RecordingSignal extends CancelSignalPort {
  readonly published: string[] = [];
  async publish(jobId: string): Promise<void> {
    this.published.push(jobId);
  }
  async subscribe(): Promise<() => Promise<void>> {
    return async () => undefined;
  }
}

const alice = new Caller('alice', false);

describe('CancelJob and ReapJobs', () => {
  let status: InMemoryJobStatus;
  let queue: InMemoryJobQueue;
  let signal: RecordingSignal;
  let clock: FixedClock;

  beforeEach(() => {
    status = new InMemoryJobStatus();
    queue = new InMemoryJobQueue();
    signal = new RecordingSignal();
    // Status records stamp updated_at with the wall clock, so the reaper's clock starts there too.
    clock = new FixedClock(Date.now());
  });

  async function job(jobId: string) {
    const created = await status.create(
      { jobId, submissionId: 's', userId: 'alice', entrypoint: 'main.py', configFile: null, config: {}, resourceClass: 'small', benchmark: null, createdAt: new Date(clock.now()).toISOString() },
      { jobsPerHour: 100, concurrentJobs: 100 },
      clock.now(),
    );
    await queue.enqueue({ job_id: jobId, submission_id: 's', entrypoint: 'main.py', config_file: null, config: {}, resource_class: 'small' });
    return created;
  }

  const cancel = () => new CancelJob(new GetJobStatus(status), status, queue, signal);

  it('takes a pending job off the queue without bothering the workers', async () => {
    await job('j1');
    expect(await cancel().execute(alice, 'j1')).toMatchObject({ status: 'cancelled', errorMessage: 'cancelled by alice before it started' });
    expect(queue.pending.has('j1')).toBe(false);
    expect(signal.published).toEqual([]);
  });

  it('signals the workers for a running job', async () => {
    await job('j2');
    queue.states.set('j2', 'active');
    await status.update('j2', { status: 'running' });
    expect(await cancel().execute(alice, 'j2')).toMatchObject({ status: 'cancelled', errorMessage: 'cancelled by alice' });
    expect(signal.published).toEqual(['j2']);
  });

  it('refuses to cancel a finished job, and another user\'s job', async () => {
    await job('j3');
    await status.update('j3', { status: 'completed' });
    await expect(cancel().execute(alice, 'j3')).rejects.toBeInstanceOf(Conflict);
    await expect(cancel().execute(new Caller('bob', false), 'j3')).rejects.toThrow('belongs to another user');
  });

  it('reaps: re-queues a pending job the queue lost, fails a running one, leaves healthy and young ones', async () => {
    await job('lost-pending');
    await job('lost-running');
    await job('healthy');
    await job('young');
    queue.pending.delete('lost-pending');
    queue.pending.delete('lost-running');
    queue.states.set('healthy', 'active');
    queue.pending.delete('young');
    await status.update('lost-running', { status: 'running' });
    await status.update('healthy', { status: 'running' });
    const reaper = new ReapJobs(status, queue, clock, 60_000);

    clock.advance(30_000);
    expect(await reaper.execute()).toEqual({ requeued: [], failed: [] });

    clock.advance(10 * 60_000);
    const young = await status.get('young');
    await status.remove('young');
    await status.create({ ...young!, createdAt: new Date(clock.now()).toISOString() }, { jobsPerHour: 100, concurrentJobs: 100 }, clock.now());
    const report = await reaper.execute();
    expect(report).toEqual({ requeued: ['lost-pending'], failed: ['lost-running'] });
    expect(queue.pending.has('lost-pending')).toBe(true);
    expect(await status.get('lost-running')).toMatchObject({ status: 'failed', errorMessage: 'worker lost: the queue no longer holds it while its status was running' });
    expect((await status.get('healthy'))?.status).toBe('running');
  });

  it('re-queues, rather than fails, a running job the queue lost after its code ran and its outcome was kept', async () => {
    await job('finishing');
    queue.pending.delete('finishing');
    const finishing = { status: 'completed' as const, errorMessage: null, runStatus: 'FINISHED' as const, scores: null, finishedAt: new Date(clock.now()).toISOString() };
    await status.update('finishing', { status: 'running', runId: 'run-1', finishing });
    clock.advance(10 * 60_000);
    expect(await new ReapJobs(status, queue, clock, 60_000).execute()).toEqual({ requeued: ['finishing'], failed: [] });
    expect(queue.pending.has('finishing')).toBe(true);
    expect(await status.get('finishing')).toMatchObject({ status: 'running', finishing });
  });
});
