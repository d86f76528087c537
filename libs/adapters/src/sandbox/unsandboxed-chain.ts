import { SandboxOutcome, SandboxRequest } from '@app/domain';
import { JOB_OPEN_FILES } from './bwrap-args';
import { classifyOutcome, parseLauncherReport, readLogTail } from './outcome';
import { killGroup, supervise } from './supervised-process';

const MB = 2 ** 20;

export interface UnsandboxedRun {
  /** The launcher's command line (see launcherCommand). */
  command: string[];
  /** The whole environment; never process.env. */
  env: Record<string, string>;
  cwd: string;
  limits: SandboxRequest['limits'];
  /** The log, opened for append, and its size before this run (the tail is read from there). */
  log: { path: string; fd: number; start: number; maxBytes?: number };
  abort: AbortSignal;
}

/** SANDBOX=none: the launcher under rlimits in a session of its own, killed as a group on timeout or abort. */
export async function runUnsandboxed(run: UnsandboxedRun): Promise<SandboxOutcome> {
  const { limits } = run;
  const command = [
    'prlimit',
    '--core=0',
    `--data=${limits.memoryMb * MB}`,
    `--nproc=${limits.pidsMax}`,
    `--nofile=${JOB_OPEN_FILES}`,
    '--',
    ...run.command,
  ];
  const exit = await supervise({
    command: command[0],
    args: command.slice(1),
    env: run.env,
    cwd: run.cwd,
    logFd: run.log.fd,
    logMaxBytes: run.log.maxBytes,
    timeoutMs: limits.timeoutSeconds * 1000,
    abort: run.abort,
    killTree: async (child) => killGroup(child),
  });
  if (exit.spawnError) return { kind: 'sandbox_error', message: `could not start: ${exit.spawnError.message}` };
  // Children left running in the process group go with it.
  killGroup(exit);
  return classifyOutcome(
    {
      timedOut: exit.timedOut,
      aborted: exit.aborted,
      // No sandbox to come up: once spawned, the launcher runs the code (127 if it cannot).
      started: true,
      report: parseLauncherReport(exit.status),
      exitCode: exit.exitCode,
      signal: exit.signal,
      logTail: await readLogTail(run.log.path, run.log.start),
    },
    limits,
  );
}
