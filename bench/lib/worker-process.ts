import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { BUILT_MAIN } from './api-process';
import { buildIfStale, ROOT } from './build';
import { ChildService } from './child-service';

export const WORKER_MAIN = path.join(ROOT, 'dist', 'apps', 'worker', 'main.js');

/** Wall-clock time in ms since the epoch with sub-ms resolution (comparable with Date.now() of other processes). */
export const unixNow = (): number => performance.timeOrigin + performance.now();

/** Runs `npm run build` when either bundle (API, worker) is missing or older than any source it comes from. */
export function ensureBothBuilt(log: (line: string) => void): void {
  const sources = ['apps/api/src', 'apps/worker/src', 'apps/api/tsconfig.app.json', 'apps/worker/tsconfig.app.json'];
  const { status } = buildIfStale([BUILT_MAIN, WORKER_MAIN], sources, log);
  if (status !== 0) throw new Error(`npm run build failed (exit ${status})`);
}

export interface LogLine {
  /** unix ms when this process received the line */
  at: number;
  text: string;
}

/** `node dist/apps/worker/main.js` as a child process; its output lines are kept with the time they arrived. */
export class WorkerProcess extends ChildService {
  readonly lines: LogLine[] = [];
  private partial = '';

  private constructor(child: ChildProcess) {
    super(child);
    const keep = (chunk: Buffer) => {
      const at = unixNow();
      const text = this.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) if (line.trim()) this.lines.push({ at, text: line });
      if (this.lines.length > 5000) this.lines.splice(0, this.lines.length - 5000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  lastOutput(count = 40): string {
    return this.lines
      .slice(-count)
      .map((line) => line.text)
      .join('\n');
  }

  /** Starts the worker and waits for "consuming with" (config checked, sandbox self-check passed, consumer started). */
  static async start(env: Record<string, string>, timeoutMs = 120_000): Promise<WorkerProcess> {
    const child = spawn(process.execPath, [WORKER_MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(child);
    const deadline = Date.now() + timeoutMs;
    while (!worker.lines.some((line) => line.text.includes('consuming with'))) {
      if (worker.exit) throw new Error(`the worker exited during start (${JSON.stringify(worker.exit)}):\n${worker.lastOutput()}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the worker did not start consuming within ${timeoutMs / 1000} s:\n${worker.lastOutput()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return worker;
  }

  /** SIGTERM (the worker requeues running jobs and exits), SIGKILL after 15 s. */
  stop(): Promise<void> {
    return this.terminate(15_000);
  }
}
