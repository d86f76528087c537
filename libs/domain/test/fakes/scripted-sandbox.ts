import { SandboxOutcome, SandboxRequest, SandboxRunnerPort } from '@app/domain';

/**
 * Stands in for the bubblewrap runner in unit tests. Programs are chosen by entrypoint name, the
 * way the contract's subjects write them: succeed.py, exit3.py, hang.py; `outcomes` forces any
 * other ending (out of memory, process limit) that only the real kernel can produce.
 */
export class ScriptedSandbox extends SandboxRunnerPort {
  readonly requests: SandboxRequest[] = [];
  readonly logs = new Map<string, string>();
  readonly outcomes = new Map<string, SandboxOutcome>();
  /** Called with each request when the run starts, e.g. to cancel from a test mid-run. */
  onStart?: (request: SandboxRequest) => void;

  async run(request: SandboxRequest, abort: AbortSignal): Promise<SandboxOutcome> {
    this.requests.push(request);
    this.onStart?.(request);
    const forced = this.outcomes.get(request.entrypoint);
    if (forced) return forced;
    switch (request.entrypoint) {
      case 'succeed.py':
        this.logs.set(request.logPath, 'hello from the sandbox\n');
        return { kind: 'succeeded' };
      case 'exit3.py':
        this.logs.set(request.logPath, 'bad input\n');
        return { kind: 'exit_code', exitCode: 3, stderrTail: 'bad input' };
      case 'hang.py':
        return this.hang(request, abort);
      default:
        return { kind: 'exit_code', exitCode: 2, stderrTail: `can't open file '${request.entrypoint}'` };
    }
  }

  async selfCheck(): Promise<string> {
    return 'scripted sandbox (unit tests)';
  }

  private hang(request: SandboxRequest, abort: AbortSignal): Promise<SandboxOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'timeout', seconds: request.limits.timeoutSeconds }), request.limits.timeoutSeconds * 1000);
      const stop = () => {
        clearTimeout(timer);
        resolve({ kind: 'aborted' });
      };
      if (abort.aborted) stop();
      else abort.addEventListener('abort', stop, { once: true });
    });
  }
}
