import { formatMemory } from '../model/run-limits';
import { SandboxOutcome } from '../ports/sandbox-runner.port';

/** The error_message a person reads for a run that did not succeed. */
export function describeFailure(outcome: Exclude<SandboxOutcome, { kind: 'succeeded' } | { kind: 'aborted' }>): string {
  switch (outcome.kind) {
    case 'timeout':
      return `timeout after ${outcome.seconds} s`;
    case 'out_of_memory':
      return `out of memory (limit ${formatMemory(outcome.limitMb)})`;
    case 'process_limit':
      return `process limit reached (at most ${outcome.pidsMax} processes)`;
    case 'output_limit':
      return `output limit exceeded (${outcome.limitMb} MB)`;
    case 'exit_code':
      return withTail(`exit code ${outcome.exitCode}`, outcome.stderrTail);
    case 'signal':
      return withTail(`killed by ${outcome.signal}`, outcome.stderrTail);
    case 'sandbox_error':
      return `sandbox could not start: ${outcome.message}`;
  }
}

function withTail(head: string, tail: string): string {
  const trimmed = tail.trim();
  return trimmed ? `${head}: ${trimmed}` : head;
}
