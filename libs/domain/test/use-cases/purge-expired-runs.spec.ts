import { Job, JobStatusPort, PurgeExpiredRuns, RunFilesPort, StoredRun, Unavailable } from '@app/domain';
import { FixedClock } from '../fakes/fixed-clock';

const DAY = 24 * 3600 * 1000;

/** Files on a pretend host; remembers what was removed. */
class FakeRunFiles extends RunFilesPort {
  removed: string[] = [];
  constructor(private runs: StoredRun[]) {
    super();
  }
  async list(): Promise<StoredRun[]> {
    return this.runs;
  }
  async remove(jobId: string): Promise<void> {
    this.removed.push(jobId);
    this.runs = this.runs.filter((run) => run.jobId !== jobId);
  }
}

/** Only `get` matters here: the ids it knows, and whether the store answers at all. */
function statusStore(known: string[], answers: () => boolean = () => true): JobStatusPort & { asked: string[] } {
  const asked: string[] = [];
  const store = {
    asked,
    get: async (jobId: string): Promise<Job | undefined> => {
      asked.push(jobId);
      if (!answers()) throw new Unavailable('Redis is unreachable');
      return known.includes(jobId) ? ({ jobId } as Job) : undefined;
    },
  };
  return store as unknown as JobStatusPort & { asked: string[] };
}

describe('PurgeExpiredRuns', () => {
  const clock = new FixedClock();
  const now = clock.now();

  it('removes only files older than the retention whose record the store says does not exist', async () => {
    const files = new FakeRunFiles([
      { jobId: 'old-gone', modifiedAt: now - 91 * DAY },
      { jobId: 'old-recorded', modifiedAt: now - 91 * DAY },
      { jobId: 'recent-gone', modifiedAt: now - 89 * DAY },
    ]);
    const status = statusStore(['old-recorded']);
    expect(await new PurgeExpiredRuns(status, files, clock, 90 * DAY).execute()).toEqual(['old-gone']);
    expect(files.removed).toEqual(['old-gone']);
    // Recent files are not even looked up.
    expect(status.asked).toEqual(['old-gone', 'old-recorded']);
  });

  it('stops at the first store error and removes nothing after it: an outage is not an expiry', async () => {
    let calls = 0;
    const files = new FakeRunFiles([
      { jobId: 'a', modifiedAt: now - 100 * DAY },
      { jobId: 'b', modifiedAt: now - 100 * DAY },
    ]);
    const status = statusStore([], () => ++calls === 1);
    await expect(new PurgeExpiredRuns(status, files, clock, 90 * DAY).execute()).rejects.toThrow('Redis is unreachable');
    expect(files.removed).toEqual(['a']);
  });
});
