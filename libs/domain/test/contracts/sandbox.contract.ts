import { SandboxRequest, SandboxRunnerPort } from '@app/domain';

export type ContractProgram = 'succeed' | 'exit3' | 'hang';

export interface SandboxContractSubject {
  sandbox: SandboxRunnerPort;
  /** A request that runs the named program (succeed.py, exit3.py, hang.py) with the given timeout. */
  request: (program: ContractProgram, timeoutSeconds?: number) => Promise<SandboxRequest>;
  readLog: (request: SandboxRequest) => Promise<string>;
}

/**
 * What every SandboxRunnerPort promises, by program: succeed.py prints "hello from the sandbox",
 * exit3.py prints "bad input" to stderr and exits 3, hang.py sleeps for minutes.
 */
export function sandboxContract(make: () => Promise<SandboxContractSubject>): void {
  it('reports success and keeps the program output in the log', async () => {
    const subject = await make();
    const request = await subject.request('succeed');
    expect(await subject.sandbox.run(request, new AbortController().signal)).toEqual({ kind: 'succeeded' });
    expect(await subject.readLog(request)).toContain('hello from the sandbox');
  });

  it('reports the exit code with the end of stderr', async () => {
    const subject = await make();
    const outcome = await subject.sandbox.run(await subject.request('exit3'), new AbortController().signal);
    expect(outcome).toMatchObject({ kind: 'exit_code', exitCode: 3, stderrTail: expect.stringContaining('bad input') });
  });

  it('stops a program at its timeout', async () => {
    const subject = await make();
    const started = Date.now();
    const outcome = await subject.sandbox.run(await subject.request('hang', 1), new AbortController().signal);
    expect(outcome).toEqual({ kind: 'timeout', seconds: 1 });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('stops a program when aborted', async () => {
    const subject = await make();
    const controller = new AbortController();
    const running = subject.sandbox.run(await subject.request('hang', 60), controller.signal);
    setTimeout(() => controller.abort('cancel'), 300);
    expect(await running).toEqual({ kind: 'aborted' });
  });

  it('describes itself in a self-check', async () => {
    const subject = await make();
    expect(await subject.sandbox.selfCheck()).toEqual(expect.any(String));
  });
}
