import { JobPayload, JobQueuePort } from '@app/domain';

function payload(jobId: string): JobPayload {
  return { job_id: jobId, submission_id: 'sub-1', entrypoint: 'main.py', config_file: null, config: {}, resource_class: 'small' };
}

/** What every JobQueuePort must do; run against the in-memory fake and BullMQ. */
export function jobQueueContract(make: () => Promise<JobQueuePort>): void {
  let queue: JobQueuePort;
  beforeEach(async () => {
    queue = await make();
  });

  it('removes a job nobody has started, once', async () => {
    await queue.enqueue(payload('queued-1'));
    expect(await queue.removePending('queued-1')).toBe(true);
    expect(await queue.removePending('queued-1')).toBe(false);
  });

  it('adds a job id only once however often it is enqueued', async () => {
    await queue.enqueue(payload('twice-1'));
    await queue.enqueue(payload('twice-1'));
    expect(await queue.removePending('twice-1')).toBe(true);
    expect(await queue.removePending('twice-1')).toBe(false);
  });

  it('says false for a job it never had', async () => {
    expect(await queue.removePending('never-added')).toBe(false);
  });

  it('says where a job is: waiting once added, missing once removed or never added', async () => {
    await queue.enqueue(payload('state-1'));
    expect(await queue.state('state-1')).toBe('waiting');
    await queue.removePending('state-1');
    expect(await queue.state('state-1')).toBe('missing');
    expect(await queue.state('never-added')).toBe('missing');
  });
}
