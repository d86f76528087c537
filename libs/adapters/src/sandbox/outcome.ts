import { SandboxOutcome, SandboxRequest } from '@app/domain';
import { open } from 'node:fs/promises';
import { constants } from 'node:os';
import { CgroupCounters } from './cgroup';

/** What python/launcher.py wrote to its status fd: whether the user's code started, how it ended. */
export interface LauncherReport {
  started: boolean;
  ended?: { exitCode: number } | { signal: number };
}

export function parseLauncherReport(text: string): LauncherReport {
  const report: LauncherReport = { started: false };
  for (const line of text.split('\n')) {
    const [word, number] = line.trim().split(' ');
    if (word === 'started') report.started = true;
    else if (word === 'exit' && /^\d+$/.test(number ?? '')) report.ended = { exitCode: Number(number) };
    else if (word === 'signal' && /^\d+$/.test(number ?? '')) report.ended = { signal: Number(number) };
  }
  return report;
}

/** Everything known when the process tree is gone. */
export interface RunFacts {
  timedOut: boolean;
  aborted: boolean;
  report: LauncherReport;
  /** Exit of the outermost process (bwrap exits 128+N when its child died of signal N). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Undefined when the run had no cgroup (rlimits, or no sandbox). */
  counters?: CgroupCounters;
  /** The last lines the run wrote to its log. */
  logTail: string;
}

/** Classifies from the flags and the cgroup counters first; an exit code of 137 alone proves nothing. */
export function classifyOutcome(facts: RunFacts, limits: SandboxRequest['limits']): SandboxOutcome {
  if (facts.aborted) return { kind: 'aborted' };
  if (facts.timedOut) return { kind: 'timeout', seconds: limits.timeoutSeconds };
  if (!facts.report.started) {
    const how = facts.signal ? `was killed by ${facts.signal}` : `exited with code ${facts.exitCode}`;
    return { kind: 'sandbox_error', message: facts.logTail.trim() || `the sandbox ${how} before the job started` };
  }
  const ended = facts.report.ended ?? fromOuterExit(facts);
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

/** The launcher itself died (the OOM killer may pick it): bwrap reports its signal as 128+N. */
function fromOuterExit(facts: RunFacts): NonNullable<LauncherReport['ended']> {
  if (facts.signal) return { signal: constants.signals[facts.signal] };
  const code = facts.exitCode ?? 1;
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
