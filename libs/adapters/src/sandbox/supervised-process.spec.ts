import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { killGroup, supervise } from './supervised-process';

describe('supervise', () => {
  const logFd = openSync('/dev/null', 'a');
  afterAll(() => closeSync(logFd));
  const base = { env: { PATH: '/usr/bin:/bin' }, logFd, timeoutMs: 5000, abort: new AbortController().signal, killTree: async () => undefined };

  it('ends with 127 instead of hanging when the command is missing, saying so in the log', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'supervise-'));
    const log = openSync(path.join(dir, 'log'), 'a');
    try {
      const exit = await supervise({ ...base, logFd: log, command: 'no-such-command-here', args: [] });
      expect(exit.exitCode).toBe(127);
      expect(readFileSync(path.join(dir, 'log'), 'utf8')).toMatch(/no-such-command-here: not found/);
    } finally {
      closeSync(log);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('collects what the process writes to the status fd, and its exit', async () => {
    const exit = await supervise({ ...base, command: 'sh', args: ['-c', 'echo started >&3; exit 7'] });
    expect(exit).toMatchObject({ status: 'started\n', exitCode: 7, timedOut: false, aborted: false });
  });

  it('kills the process group on timeout', async () => {
    const exit = await supervise({ ...base, command: 'sleep', args: ['30'], timeoutMs: 200, killTree: async (child) => killGroup(child) });
    expect(exit).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
  });
});

describe('supervise with extra fds', () => {
  const logFd = openSync('/dev/null', 'a');
  afterAll(() => closeSync(logFd));

  it('feeds data to some fds and collects what the process writes to others', async () => {
    const exit = await supervise({
      command: 'sh',
      args: ['-c', 'cat <&6 >&5; echo label >&3'],
      env: { PATH: '/usr/bin:/bin' },
      logFd,
      feed: { 6: Buffer.from('from fd 6\n') },
      collect: [5],
      timeoutMs: 5000,
      abort: new AbortController().signal,
      killTree: async () => undefined,
    });
    expect(exit).toMatchObject({ exitCode: 0, status: 'label\n', collected: { 3: 'label\n', 5: 'from fd 6\n' } });
  });
});
