import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { classifyOutcome, parseBwrapStatus, parseLauncherReport, readLogTail, RunFacts } from './outcome';

const limits = { timeoutSeconds: 5, memoryMb: 256, pidsMax: 32 };
const noCounters = { oomKills: 0, memoryLimitHits: 0, pidsMaxHits: 0 };
function facts(overrides: Partial<RunFacts>): RunFacts {
  return {
    timedOut: false,
    aborted: false,
    started: true,
    report: { ended: { exitCode: 0 } },
    exitCode: 0,
    signal: null,
    counters: noCounters,
    logTail: 'tail',
    ...overrides,
  };
}

describe('classifyOutcome', () => {
  it('succeeds on exit 0', () => {
    expect(classifyOutcome(facts({}), limits)).toEqual({ kind: 'succeeded' });
  });

  it('reports the exit code with the tail', () => {
    expect(classifyOutcome(facts({ report: { ended: { exitCode: 3 } }, exitCode: 3 }), limits)).toEqual({
      kind: 'exit_code',
      exitCode: 3,
      stderrTail: 'tail',
    });
  });

  it('tells a signal from an exit code of 128+N by the launcher report', () => {
    expect(classifyOutcome(facts({ report: { ended: { exitCode: 137 } }, exitCode: 137 }), limits).kind).toBe('exit_code');
    expect(classifyOutcome(facts({ report: { ended: { signal: 15 } }, exitCode: 143 }), limits)).toEqual({
      kind: 'signal',
      signal: 'SIGTERM',
      stderrTail: 'tail',
    });
  });

  it('calls a SIGKILL out_of_memory only when the cgroup counted an OOM kill', () => {
    const killed = { report: { ended: { signal: 9 } }, exitCode: 137 };
    expect(classifyOutcome(facts({ ...killed, counters: noCounters }), limits).kind).toBe('signal');
    expect(classifyOutcome(facts({ ...killed, counters: { ...noCounters, oomKills: 1 } }), limits)).toEqual({ kind: 'out_of_memory', limitMb: 256 });
    expect(classifyOutcome(facts({ ...killed, counters: { ...noCounters, memoryLimitHits: 4 } }), limits).kind).toBe('out_of_memory');
    expect(classifyOutcome(facts({ ...killed, counters: undefined }), limits).kind).toBe('signal');
  });

  it('keeps a success that survived an OOM kill of some child', () => {
    expect(classifyOutcome(facts({ counters: { ...noCounters, oomKills: 1 } }), limits).kind).toBe('succeeded');
  });

  it('reports output_limit for a run ended over its output cap, whatever its exit; an abort still wins', () => {
    const killed = { report: { ended: { signal: 9 } }, exitCode: 137, outputExceeded: 20 };
    expect(classifyOutcome(facts(killed), limits)).toEqual({ kind: 'output_limit', limitMb: 20 });
    expect(classifyOutcome(facts({ outputExceeded: 20 }), limits)).toEqual({ kind: 'output_limit', limitMb: 20 });
    expect(classifyOutcome(facts({ ...killed, aborted: true }), limits)).toEqual({ kind: 'aborted' });
  });

  it('reports process_limit when forks were refused and the job failed', () => {
    const failed = { report: { ended: { exitCode: 1 } }, exitCode: 1 };
    expect(classifyOutcome(facts({ ...failed, counters: { ...noCounters, pidsMaxHits: 12 } }), limits)).toEqual({ kind: 'process_limit', pidsMax: 32 });
  });

  it('puts timeout and abort before everything else', () => {
    expect(classifyOutcome(facts({ timedOut: true, signal: 'SIGKILL' }), limits)).toEqual({ kind: 'timeout', seconds: 5 });
    expect(classifyOutcome(facts({ aborted: true, timedOut: true }), limits)).toEqual({ kind: 'aborted' });
  });

  it('is a sandbox_error with bwrap\'s words when the sandbox never came up', () => {
    const outcome = classifyOutcome(facts({ started: false, report: {}, exitCode: 1, logTail: "bwrap: Can't find source path /x: No such file" }), limits);
    expect(outcome).toEqual({ kind: 'sandbox_error', message: "bwrap: Can't find source path /x: No such file" });
    expect(classifyOutcome(facts({ started: false, report: {}, exitCode: 125, logTail: '' }), limits)).toEqual({
      kind: 'sandbox_error',
      message: 'the sandbox exited with code 125 before the job started',
    });
  });

  it('falls back to bwrap\'s 128+N when the launcher itself was killed', () => {
    expect(classifyOutcome(facts({ report: {}, exitCode: 137, counters: undefined }), limits)).toMatchObject({ kind: 'signal', signal: 'SIGKILL' });
  });

  it('lets the exit status decide: a label that disagrees with it is ignored', () => {
    expect(classifyOutcome(facts({ report: { ended: { exitCode: 0 } }, exitCode: 7 }), limits)).toMatchObject({ kind: 'exit_code', exitCode: 7 });
    expect(classifyOutcome(facts({ report: { ended: { signal: 9 } }, exitCode: 0 }), limits)).toEqual({ kind: 'succeeded' });
    expect(classifyOutcome(facts({ report: { ended: { exitCode: 0 } }, exitCode: null, signal: 'SIGKILL' }), limits).kind).toBe('signal');
  });
});

describe('parseLauncherReport', () => {
  it('reads the last end line', () => {
    expect(parseLauncherReport('exit 3\n')).toEqual({ ended: { exitCode: 3 } });
    expect(parseLauncherReport('signal 9\n')).toEqual({ ended: { signal: 9 } });
    expect(parseLauncherReport('')).toEqual({});
  });
});

describe('parseBwrapStatus', () => {
  it('reads the child pid and the exit code, skipping what is not JSON', () => {
    expect(parseBwrapStatus('{ "child-pid": 12, "pid-namespace": 4 }\n{ "exit-code": 7 }\n')).toEqual({ childPid: 12, exitCode: 7 });
    expect(parseBwrapStatus('{ "child-pid": 12 }\n')).toEqual({ childPid: 12 });
    expect(parseBwrapStatus('{ "exit-code": "0" }\nnot json\n')).toEqual({});
  });
});

describe('readLogTail', () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(path.join(tmpdir(), 'log-tail-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('returns the last lines written after the offset only', async () => {
    const log = path.join(dir, 'a.log');
    await writeFile(log, 'earlier run\n');
    const offset = 'earlier run\n'.length;
    await appendFile(log, Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const tail = await readLogTail(log, offset, 20);
    expect(tail.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 10}`));
    expect(await readLogTail(log, (await readLogTail(log, 0, 1000)).length + 1)).toBe('');
  });
});
