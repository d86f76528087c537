import { RateLimited } from '@app/domain';
import { InMemoryJobStatus } from '../../../../libs/domain/test/fakes/in-memory-job-status';
import { InMemoryStorage } from '../../../../libs/domain/test/fakes/in-memory-storage';
import { LogEvent, LogFollower, LogFollowHub, LogFollowSettings } from './log-follow-hub';

const FAST: LogFollowSettings = { pollMs: 5, statusPollMs: 5, heartbeatMs: 60_000, perJob: 3, total: 4, readBytes: 16 };

class Recorder implements LogFollower {
  events: LogEvent[] = [];
  closed = false;
  accept = true;
  send(event: LogEvent): boolean {
    this.events.push(event);
    return this.accept;
  }
  close(): void {
    this.closed = true;
  }
  text(): string {
    return this.events.map((event) => (event.kind === 'log' ? event.text : '')).join('');
  }
  /** Each log event's id is the byte offset after it. */
  offsets(): number[] {
    return this.events.flatMap((event) => (event.kind === 'log' ? [event.nextOffset] : []));
  }
}

function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => (check() ? resolve() : Date.now() > deadline ? reject(new Error('timed out')) : setTimeout(poll, 5));
    poll();
  });
}

describe('LogFollowHub', () => {
  let storage: InMemoryStorage;
  let status: InMemoryJobStatus;
  let hub: LogFollowHub;
  let reads: string[];

  beforeEach(async () => {
    storage = new InMemoryStorage();
    status = new InMemoryJobStatus();
    reads = [];
    const loadLogs = storage.loadLogs.bind(storage);
    storage.loadLogs = async (jobId, offset, limit) => {
      reads.push(`${offset}+${limit}`);
      return loadLogs(jobId, offset, limit);
    };
    hub = new LogFollowHub(storage, status, FAST);
    for (const jobId of ['job-1', 'job-2']) {
      await status.create(
        { jobId, submissionId: 's', userId: 'alice', entrypoint: 'main.py', configFile: null, config: {}, resourceClass: 'small', benchmark: null, createdAt: 'now' },
        { jobsPerHour: 100, concurrentJobs: 100 },
        Date.now(),
      );
    }
    await status.update('job-1', { status: 'running' });
  });
  afterEach(() => hub.beforeApplicationShutdown());

  it('sends every byte once, in order, to every follower, reading each new byte once, and ends after the last one', async () => {
    storage.writeLog('job-1', 'first line\n');
    const early = new Recorder();
    hub.follow('job-1', 0, early);
    await until(() => early.text() === 'first line\n');
    storage.writeLog('job-1', 'second line, ü\n');
    const late = new Recorder();
    hub.follow('job-1', 0, late);
    await until(() => late.text() === 'first line\nsecond line, ü\n' && early.text() === late.text());
    reads.length = 0;
    storage.writeLog('job-1', 'third\n');
    await until(() => early.text().endsWith('third\n') && late.text().endsWith('third\n'));
    // One read of the new bytes for both followers, then empty polls.
    expect(reads.filter((read) => read.startsWith('27+')).length).toBeGreaterThanOrEqual(1);
    expect(new Set(reads.filter((read) => !read.startsWith('33+')))).toEqual(new Set(['27+16']));
    storage.writeLog('job-1', 'last words\n');
    await status.update('job-1', { status: 'failed', errorMessage: 'exit 1' });
    await until(() => early.closed && late.closed);
    for (const follower of [early, late]) {
      expect(follower.text()).toBe('first line\nsecond line, ü\nthird\nlast words\n');
      expect(follower.events.at(-1)).toMatchObject({ kind: 'end', job: { status: 'failed', errorMessage: 'exit 1' }, offset: 44 });
      expect(follower.offsets().at(-1)).toBe(44);
    }
    expect(hub.tailedJobs()).toEqual([]);
  });

  it('starts at the offset asked for, and a follower ahead of the log waits for it', async () => {
    storage.writeLog('job-1', '0123456789');
    const resumed = new Recorder();
    const ahead = new Recorder();
    hub.follow('job-1', 4, resumed);
    hub.follow('job-1', 12, ahead);
    await until(() => resumed.text() === '456789');
    storage.writeLog('job-1', 'abcdef');
    await until(() => ahead.text() === 'cdef' && resumed.text() === '456789abcdef');
    expect(ahead.offsets()).toEqual([16]);
  });

  it('stops the tailer when the last follower leaves, and starts a new one for the next', async () => {
    const first = new Recorder();
    const stopFirst = hub.follow('job-2', 0, first);
    const stopSecond = hub.follow('job-2', 0, new Recorder());
    expect(hub.tailedJobs()).toEqual(['job-2']);
    stopFirst();
    stopFirst();
    expect(hub.tailedJobs()).toEqual(['job-2']);
    stopSecond();
    expect(hub.tailedJobs()).toEqual([]);
    const again = new Recorder();
    hub.follow('job-2', 0, again);
    storage.writeLog('job-2', 'hello');
    await until(() => again.text() === 'hello');
  });

  it('refuses followers past the per-job and total caps with a RateLimited that says when to retry', () => {
    for (let index = 0; index < 3; index++) hub.follow('job-1', 0, new Recorder());
    expect(() => hub.follow('job-1', 0, new Recorder())).toThrow(RateLimited);
    const stop = hub.follow('job-2', 0, new Recorder());
    const error = (() => {
      try {
        hub.follow('job-2', 0, new Recorder());
      } catch (caught) {
        return caught as RateLimited;
      }
    })();
    expect(error?.retryAfterSeconds).toBe(5);
    expect(error?.message).toMatch(/4 live logs/);
    stop();
    expect(() => hub.follow('job-2', 0, new Recorder())).not.toThrow();
  });

  it('drops a follower that cannot keep up, and tells followers when a new attempt restarts the log', async () => {
    storage.writeLog('job-1', 'attempt one is long enough\n');
    const slow = new Recorder();
    slow.accept = false;
    const steady = new Recorder();
    hub.follow('job-1', 0, slow);
    hub.follow('job-1', 0, steady);
    await until(() => slow.closed && steady.text() === 'attempt one is long enough\n');
    await storage.prepareRun('job-1', {});
    storage.writeLog('job-1', 'two\n');
    await until(() => steady.text().endsWith('two\n'));
    expect(steady.events.map((event) => event.kind)).toContain('restart');
    expect(steady.offsets().at(-1)).toBe(4);
  });

  it('sends keep-alives while nothing happens, and ends at once for a final job without a log', async () => {
    const quiet = new LogFollowHub(storage, status, { ...FAST, heartbeatMs: 20 });
    const waiting = new Recorder();
    quiet.follow('job-2', 0, waiting);
    await until(() => waiting.events.filter((event) => event.kind === 'heartbeat').length >= 2);
    await status.update('job-2', { status: 'cancelled', errorMessage: 'cancelled by alice before it started' });
    await until(() => waiting.closed);
    expect(waiting.events.at(-1)).toMatchObject({ kind: 'end', job: { status: 'cancelled' }, offset: 0 });
    expect(quiet.tailedJobs()).toEqual([]);
  });
});
