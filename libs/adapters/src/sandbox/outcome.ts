import { SandboxOutcome, SandboxRequest } from '@app/domain';
import { open } from 'node:fs/promises';
import { constants } from 'node:os';
import { CgroupCounters } from './cgroup';

/** What python/launcher.py wrote to its status fd: only whether an exit status of 128+N was a signal. */
export interface LauncherReport {
  ended?: { exitCode: number } | { signal: number };
}

export function parseLauncherReport(text: string): LauncherReport {
  const report: LauncherReport = {};
  for (const line of text.split('\n')) {
    const [word, number] = line.trim().split(' ');
    if (word === 'exit' && /^\d+$/.test(number ?? '')) report.ended = { exitCode: Number(number) };
    else if (word === 'signal' && /^\d+$/.test(number ?? '')) report.ended = { signal: Number(number) };
  }
  return report;
}

/** What bwrap wrote to --json-status-fd: it reports an exit code only for a sandbox that came up and ran its command. */
export interface BwrapStatus {
  childPid?: number;
  exitCode?: number;
}

export function parseBwrapStatus(text: string): BwrapStatus {
  const status: BwrapStatus = {};
  for (const line of text.split('\n')) {
    let object: unknown;
    try {
      object = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof object !== 'object' || object === null) continue;
    const record = object as Record<string, unknown>;
    if (Number.isInteger(record['child-pid'])) status.childPid = record['child-pid'] as number;
    if (Number.isInteger(record['exit-code'])) status.exitCode = record['exit-code'] as number;
  }
  return status;
}

/** Everything known when the process tree is gone. Nothing here comes from a channel the job can write. */
export interface RunFacts {
  timedOut: boolean;
  aborted: boolean;
  /** The output cap in MB when the run's output went over it (the run was ended for it); absent otherwise. */
  outputExceeded?: number;
  /** Whether the job's code was started: bwrap reported an exit code, or the unsandboxed launcher was spawned. */
  started: boolean;
  /** The exit status seen from outside: bwrap's exit-code, or the launcher's own (both 128+N for signal N). */
  exitCode: number | null;
  /** The outermost process's own death by a signal (a timeout or abort kill, say). */
  signal: NodeJS.Signals | null;
  /** The launcher's label for a 128+N status; used only when it agrees with exitCode. */
  report: LauncherReport;
  /** Undefined when the run had no cgroup (rlimits, or no sandbox). */
  counters?: CgroupCounters;
  /** The last lines the run wrote to its log. */
  logTail: string;
}

/** Classifies from the flags and the cgroup counters first; an exit code of 137 alone proves nothing. */
export function classifyOutcome(facts: RunFacts, limits: SandboxRequest['limits']): SandboxOutcome {
  if (facts.aborted) return { kind: 'aborted' };
  if (facts.outputExceeded !== undefined) return { kind: 'output_limit', limitMb: facts.outputExceeded };
  if (facts.timedOut) return { kind: 'timeout', seconds: limits.timeoutSeconds };
  if (!facts.started) {
    const how = facts.signal ? `was killed by ${facts.signal}` : `exited with code ${facts.exitCode}`;
    return { kind: 'sandbox_error', message: facts.logTail.trim() || `the sandbox ${how} before the job started` };
  }
  const ended = endedFrom(facts);
  const succeeded = 'exitCode' in ended && ended.exitCode === 0;
  const counters = facts.counters;
  if (counters && !succeeded) {
    const killed = 'signal' in ended && ended.signal === constants.signals.SIGKILL;
    if (counters.oomKills > 0 || (counters.memoryLimitHits > 0 && killed)) {
      return { kind: 'out_of_memory', limitMb: limits.memoryMb };
    }
    if (counters.pidsMaxHits > 0) return { kind: 'process_limit', pidsMax: limits.pidsMax };
  }
  if (succeeded) return { kind: 'succeeded' };
  if ('signal' in ended) return { kind: 'signal', signal: signalName(ended.signal), stderrTail: facts.logTail };
  return { kind: 'exit_code', exitCode: ended.exitCode, stderrTail: facts.logTail };
}

/**
 * The exit status decides; the launcher's label only tells `exit 137` from SIGKILL when it names the
 * same status. Without an agreeing label (the launcher itself was killed), 128+N reads as signal N.
 */
function endedFrom(facts: RunFacts): NonNullable<LauncherReport['ended']> {
  if (facts.signal) return { signal: constants.signals[facts.signal] };
  const code = facts.exitCode ?? 1;
  const label = facts.report.ended;
  if (label && 'exitCode' in label && label.exitCode === code) return label;
  if (label && 'signal' in label && 128 + label.signal === code) return label;
  return code > 128 && code < 128 + 65 ? { signal: code - 128 } : { exitCode: code };
}

export function signalName(signal: number): string {
  const entry = Object.entries(constants.signals).find(([, number]) => number === signal);
  return entry ? entry[0] : `signal ${signal}`;
}

/** The last `lines` lines written to the log since `fromOffset` (what this run wrote, not earlier runs). */
export async function readLogTail(logPath: string, fromOffset: number, lines = 20, maxBytes = 16384): Promise<string> {
  const file = await open(logPath, 'r');
  try {
    const { size } = await file.stat();
    const start = Math.max(fromOffset, size - maxBytes);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    await file.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8').replace(/\n$/, '');
    return text.split('\n').slice(-lines).join('\n');
  } finally {
    await file.close();
  }
}
