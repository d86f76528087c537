import { ChildProcess, spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { DEFAULT_LOG_MB, drainToLog } from './capped-log';

/** The launcher's status fd (exit vs signal label only); the runners pass `--status-fd 3`. */
export const STATUS_FD = 3;
/** bwrap reads its options from this fd (`--args 4`). */
export const ARGS_FD = 4;
/** bwrap writes its JSON status here (`--json-status-fd 5`): the child's start and exit, seen from outside. */
export const BWRAP_STATUS_FD = 5;
/** bwrap reads the seccomp program from this fd (`--seccomp 6`). */
export const SECCOMP_FD = 6;

export interface SupervisedRun {
  command: string;
  args: string[];
  /** The whole environment of the spawned process; never process.env. */
  env: Record<string, string>;
  cwd?: string;
  /**
   * The log, opened for append. The tree never holds it: its stdout and stderr are one pipe, which
   * the worker copies into the log up to `logMaxBytes` (default 50 MiB; see drainToLog).
   */
  logFd: number;
  logMaxBytes?: number;
  /** Data written to these fds of the child (pipes), each then closed. */
  feed?: Partial<Record<number, Buffer>>;
  /** Fds of the child read to their end (pipes); STATUS_FD always is. */
  collect?: number[];
  timeoutMs: number;
  abort: AbortSignal;
  /** Kills the whole tree; called on timeout, abort, and once more after the exit. */
  killTree: (child: ChildProcess) => Promise<void>;
}

export interface SupervisedExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** What the launcher wrote to STATUS_FD. */
  status: string;
  /** What was read from each `collect` fd. */
  collected: Record<number, string>;
  /** Also the id of the process group it led. */
  pid?: number;
  spawnError?: Error;
}

/** `sh -c MERGE_STDERR sh CMD ARG...`: execs CMD with stderr on the stdout pipe (no extra process stays), adding no PWD to its environment. */
const MERGE_STDERR = 'unset PWD; exec 2>&1; exec "$@"';

/** How long the status pipe may stay open after the outer process exited (only a leftover holds it). */
const CLOSE_GRACE_MS = 2000;

/** Runs one process tree to its end, killing it on timeout or abort. Never rejects. */
export function supervise(run: SupervisedRun): Promise<SupervisedExit> {
  return new Promise((resolve) => {
    const result: SupervisedExit = { exitCode: null, signal: null, timedOut: false, aborted: false, status: '', collected: {} };
    const reads = [...new Set([STATUS_FD, ...(run.collect ?? [])])];
    const writes = Object.keys(run.feed ?? {}).map(Number);
    const highest = Math.max(...reads, ...writes);
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'ignore'];
    for (let fd = 3; fd <= highest; fd++) stdio.push(reads.includes(fd) || writes.includes(fd) ? 'pipe' : 'ignore');
    let child: ChildProcess;
    try {
      // Its own session and process group, so the group can be killed as one.
      // stderr joins stdout before the command runs: one pipe keeps the two in the order they were written.
      child = spawn('/bin/sh', ['-c', MERGE_STDERR, 'sh', run.command, ...run.args], { env: run.env, cwd: run.cwd, detached: true, stdio });
    } catch (error) {
      resolve({ ...result, spawnError: error as Error });
      return;
    }
    const kill = () => void run.killTree(child).catch(() => undefined);
    const onAbort = () => {
      result.aborted = true;
      kill();
    };
    const timer = setTimeout(() => {
      result.timedOut = true;
      kill();
    }, run.timeoutMs);
    run.abort.addEventListener('abort', onAbort, { once: true });
    if (run.abort.aborted) onAbort();

    const output = child.stdout!;
    const drained = drainToLog(output, run.logFd, run.logMaxBytes ?? DEFAULT_LOG_MB * 2 ** 20);
    const readers: Readable[] = [output];
    for (const fd of reads) {
      const stream = child.stdio[fd] as Readable | null;
      if (!stream) continue;
      readers.push(stream);
      result.collected[fd] = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (result.collected[fd] += chunk));
      stream.on('error', () => undefined);
    }
    for (const fd of writes) {
      const stream = child.stdio[fd] as Writable | null;
      if (!stream) continue;
      stream.on('error', () => undefined);
      stream.end(run.feed![fd]);
    }

    let graceTimer: NodeJS.Timeout | undefined;
    child.on('exit', () => {
      graceTimer = setTimeout(() => {
        kill();
        for (const stream of readers) stream.destroy();
      }, CLOSE_GRACE_MS);
    });
    child.on('error', (error) => {
      result.spawnError = error;
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      run.abort.removeEventListener('abort', onAbort);
      // The log holds everything kept before anyone reads its tail.
      void drained.then(() => resolve({ ...result, status: result.collected[STATUS_FD] ?? '', exitCode, signal, pid: child.pid }));
    });
  });
}

/**
 * SIGKILL to the process group `child` led (its own session: `detached`). Safe after the leader
 * exited: while any member lives the kernel keeps the group's id from being reused.
 */
export function killGroup(child: Pick<ChildProcess, 'pid'>): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
