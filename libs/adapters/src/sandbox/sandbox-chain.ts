import { SandboxOutcome, SandboxRequest } from '@app/domain';
import { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { setprivArgs, JOB_OPEN_FILES } from './bwrap-args';
import { JobCgroup } from './cgroup';
import { CappedOutput } from './output-disk';
import { classifyOutcome, parseBwrapStatus, parseLauncherReport, readLogTail } from './outcome';
import { ARGS_FD, BWRAP_STATUS_FD, killGroup, SECCOMP_FD, supervise } from './supervised-process';

const MB = 2 ** 20;
/** bwrap (outside), the launcher (pid 1 inside) and the relay forwarder count against pids.max too. */
export const SANDBOX_PROCESSES = 3;
/** The spawned chain's whole environment: it shows in /proc/1/environ inside, so nothing of ours. */
export const CHAIN_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

/**
 * Joins the cgroups before anything else runs: this shell, still root, writes its own pid to each
 * cgroup.procs given, then execs the rest of the chain in the same process. Every process of the run
 * descends from it after that point, so none can fork before it is counted and limited.
 */
const JOIN_CGROUPS = 'unset PWD; n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"';

export interface SandboxedRun {
  /** What `bwrap --args` reads (see bwrapArgs). */
  bwrapOptions: string[];
  /** The launcher's command line inside the sandbox (see launcherCommand). */
  command: string[];
  /** The uid and gid bwrap runs as, dropped to from root; absent: the worker's own. */
  owner?: { uid: number; gid: number };
  cgroup?: JobCgroup;
  limits: SandboxRequest['limits'];
  seccomp: Buffer;
  /** The log, opened for append, its size before this run (the tail is read from there) and what the run may add. */
  log: { path: string; fd: number; start: number; maxBytes: number };
  /** The writable output dir's cap, watched while the run lasts; absent: not capped. */
  output?: CappedOutput;
  abort: AbortSignal;
}

/** RLIMIT_FSIZE above the output cap: one file may pass the cap by this much before writes to it fail (EFBIG). */
const FSIZE_SLACK = MB;

/** Looks at the output every pollMs until `until` aborts; calls `onExceeded` once, when it is over the cap. */
async function watchOutput(output: CappedOutput, until: AbortSignal, onExceeded: () => void): Promise<void> {
  while (!until.aborted) {
    await sleep(output.pollMs, undefined, { signal: until }).catch(() => undefined);
    if (until.aborted) return;
    if (await output.exceeded().catch(() => false)) return onExceeded();
  }
}

/** Scheduling niceness of jobs and scorers; without CAP_SYS_NICE they cannot raise their priority back. */
export const RUN_NICENESS = 10;

/**
 * Runs: worker (root) -> sh (joins the cgroup) -> nice -> prlimit -> setpriv (drops to the owner, no caps, no
 * new privs) -> bwrap (unprivileged) -> the launcher (pid 1, under the seccomp filter). The outcome
 * comes from outside: bwrap's JSON status, the cgroup counters, the timeout.
 */
export async function runSandboxed(run: SandboxedRun): Promise<SandboxOutcome> {
  const { limits, cgroup } = run;
  const chain = [
    ...(cgroup ? ['/bin/sh', '-c', JOIN_CGROUPS, 'sh', String(cgroup.procsFiles.length), ...cgroup.procsFiles] : []),
    // Below the platform's own processes: on a shared host a busy job must not slow the API or the worker down.
    'nice', '-n', String(RUN_NICENESS),
    'prlimit',
    '--core=0',
    `--nofile=${JOB_OPEN_FILES}`,
    // Without a cgroup: RLIMIT_DATA for memory; RLIMIT_NPROC counts every process of the uid, all runs together.
    ...(cgroup ? [] : [`--data=${limits.memoryMb * MB}`, `--nproc=${limits.pidsMax + SANDBOX_PROCESSES}`]),
    // Any one file a little past the output cap: enough for the watch to see the cap passed (see output-disk).
    ...(run.output ? [`--fsize=${run.output.limitMb * MB + FSIZE_SLACK}`] : []),
    '--',
    ...(run.owner ? setprivArgs(run.owner.uid, run.owner.gid) : []),
    'bwrap',
    '--args', String(ARGS_FD),
    // Written by bwrap outside the sandbox: the exit status of the launcher, which the code inside cannot reach.
    '--json-status-fd', String(BWRAP_STATUS_FD),
    '--seccomp', String(SECCOMP_FD),
    '--',
    ...run.command,
  ];
  const killTree = async (child: ChildProcess) => {
    killGroup(child);
    await cgroup?.killAll();
  };
  // The run is stopped for the caller's abort or for its output; only the first is an abort.
  const stop = new AbortController();
  const forward = () => stop.abort();
  run.abort.addEventListener('abort', forward, { once: true });
  if (run.abort.aborted) stop.abort();
  const watching = new AbortController();
  let outputExceeded = false;
  const watch = run.output ? watchOutput(run.output, watching.signal, () => {
    outputExceeded = true;
    stop.abort();
  }) : Promise.resolve();
  const exit = await supervise({
    command: chain[0],
    args: chain.slice(1),
    env: CHAIN_ENV,
    cwd: '/',
    logFd: run.log.fd,
    logMaxBytes: run.log.maxBytes,
    feed: { [ARGS_FD]: Buffer.from(run.bwrapOptions.map((arg) => `${arg}\0`).join('')), [SECCOMP_FD]: run.seccomp },
    collect: [BWRAP_STATUS_FD],
    timeoutMs: limits.timeoutSeconds * 1000,
    abort: stop.signal,
    killTree,
  }).finally(() => {
    watching.abort();
    run.abort.removeEventListener('abort', forward);
  });
  await watch;
  if (exit.spawnError) return { kind: 'sandbox_error', message: `could not start the sandbox: ${exit.spawnError.message}` };
  // Whatever outlived the sandbox's pid 1 (nothing should) goes before the counters are read.
  await cgroup?.killAll();
  // A run that wrote past the cap between two looks, then ended, went over it all the same.
  if (run.output && !outputExceeded && !run.abort.aborted) outputExceeded = await run.output.exceeded().catch(() => false);
  // bwrap writes an exit code only once the sandbox is up and the launcher runs; without one the code never started.
  const bwrap = parseBwrapStatus(exit.collected[BWRAP_STATUS_FD] ?? '');
  const started = bwrap.exitCode !== undefined;
  return classifyOutcome(
    {
      timedOut: exit.timedOut,
      aborted: exit.aborted && run.abort.aborted,
      outputExceeded: outputExceeded ? run.output!.limitMb : undefined,
      started,
      report: parseLauncherReport(exit.status),
      exitCode: started ? bwrap.exitCode! : exit.exitCode,
      signal: started ? null : exit.signal,
      counters: await cgroup?.counters(),
      logTail: await readLogTail(run.log.path, run.log.start),
    },
    limits,
  );
}
