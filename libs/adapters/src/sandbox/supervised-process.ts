import { ChildProcess, spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';

/** The launcher's status fd inside; the runners pass `--status-fd 3`. */
export const STATUS_FD = 3;
/** bwrap reads its options from this fd (`--args 4`). */
export const ARGS_FD = 4;

export interface SupervisedRun {
  command: string;
  args: string[];
  /** The whole environment of the spawned process; never process.env. */
  env: Record<string, string>;
  cwd?: string;
  /** The log, opened for append: stdout and stderr of the whole tree. */
  logFd: number;
  /** Written to ARGS_FD, then closed. */
  argsData?: Buffer;
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
  /** Also the id of the process group it led. */
  pid?: number;
  spawnError?: Error;
}

/** How long the status pipe may stay open after the outer process exited (only a leftover holds it). */
const CLOSE_GRACE_MS = 2000;

/** Runs one process tree to its end, killing it on timeout or abort. Never rejects. */
export function supervise(run: SupervisedRun): Promise<SupervisedExit> {
  return new Promise((resolve) => {
    const result: SupervisedExit = { exitCode: null, signal: null, timedOut: false, aborted: false, status: '' };
    let child: ChildProcess;
    try {
      child = spawn(run.command, run.args, {
        env: run.env,
        cwd: run.cwd,
        // Its own session and process group, so the group can be killed as one.
        detached: true,
        stdio: ['ignore', run.logFd, run.logFd, 'pipe', run.argsData ? 'pipe' : 'ignore'],
      });
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

    const status = child.stdio[STATUS_FD] as Readable;
    status.setEncoding('utf8');
    status.on('data', (chunk: string) => (result.status += chunk));
    status.on('error', () => undefined);
    const args = child.stdio[ARGS_FD] as Writable | null;
    if (args && run.argsData) {
      args.on('error', () => undefined);
      args.end(run.argsData);
    }

    let graceTimer: NodeJS.Timeout | undefined;
    child.on('exit', () => {
      graceTimer = setTimeout(() => {
        kill();
        status.destroy();
      }, CLOSE_GRACE_MS);
    });
    child.on('error', (error) => {
      result.spawnError = error;
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      run.abort.removeEventListener('abort', onAbort);
      resolve({ ...result, exitCode, signal, pid: child.pid });
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
