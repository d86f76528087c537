import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { BUILT_MAIN, ROOT } from './api-process';

export const WORKER_MAIN = path.join(ROOT, 'dist', 'apps', 'worker', 'main.js');

/** Wall-clock time in ms since the epoch with sub-ms resolution (comparable with Date.now() of other processes). */
export const unixNow = (): number => performance.timeOrigin + performance.now();

function newestSource(): { mtime: number; file: string } {
  let newest = { mtime: 0, file: '' };
  const visit = (entry: string) => {
    const stat = statSync(entry);
    if (stat.isDirectory()) {
      for (const name of readdirSync(entry)) visit(path.join(entry, name));
    } else if (/\.(ts|json)$/.test(entry) && !entry.endsWith('.spec.ts') && stat.mtimeMs > newest.mtime) {
      newest = { mtime: stat.mtimeMs, file: path.relative(ROOT, entry) };
    }
  };
  for (const dir of ['apps/api/src', 'apps/worker/src', 'libs/domain/src', 'libs/adapters/src']) visit(path.join(ROOT, dir));
  for (const file of ['tsconfig.json', 'apps/api/tsconfig.app.json', 'apps/worker/tsconfig.app.json', 'nest-cli.json', 'package-lock.json']) {
    if (existsSync(path.join(ROOT, file))) visit(path.join(ROOT, file));
  }
  return newest;
}

/** Runs `npm run build` when either bundle (API, worker) is missing or older than any source it comes from. */
export function ensureBothBuilt(log: (line: string) => void): void {
  const newest = newestSource();
  const builtAt = () => Math.min(...[BUILT_MAIN, WORKER_MAIN].map((file) => (existsSync(file) ? statSync(file).mtimeMs : 0)));
  if (builtAt() >= newest.mtime) {
    log('build: dist/apps/api/main.js and dist/apps/worker/main.js are up to date');
    return;
  }
  log(builtAt() === 0 ? 'build: a bundle is missing; running npm run build' : `build: ${newest.file} is newer than dist; running npm run build`);
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status})`);
}

export interface LogLine {
  /** unix ms when this process received the line */
  at: number;
  text: string;
}

/** `node dist/apps/worker/main.js` as a child process; its output lines are kept with the time they arrived. */
export class WorkerProcess {
  readonly lines: LogLine[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stopping = false;
  private partial = '';

  private constructor(readonly child: ChildProcess) {
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
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get crashed(): boolean {
    return this.exit !== undefined && !this.stopping;
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
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exit) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
