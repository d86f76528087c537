import { ChildProcess } from 'node:child_process';

/** A service the benchmark started as a child process: knows whether it died on its own, and stops it. */
export abstract class ChildService {
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stopping = false;

  protected constructor(readonly child: ChildProcess) {
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True when the process died on its own (not stopped by us). */
  get crashed(): boolean {
    return this.exit !== undefined && !this.stopping;
  }

  abstract lastOutput(): string;

  /** SIGTERM (the service shuts down cleanly), SIGKILL after `graceMs`. */
  protected async terminate(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.exit) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
