import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BUILT_MAIN = path.join(ROOT, 'dist', 'apps', 'api', 'main.js');
/** BENCH_API_MAIN benchmarks another bundle (e.g. a patched copy) instead of the built one. */
export const API_MAIN = process.env.BENCH_API_MAIN ? path.resolve(process.env.BENCH_API_MAIN) : BUILT_MAIN;

/** Newest modification time (ms) of the sources the API bundle is built from. */
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
  for (const dir of ['apps/api/src', 'libs/domain/src', 'libs/adapters/src']) visit(path.join(ROOT, dir));
  for (const file of ['tsconfig.json', 'apps/api/tsconfig.app.json', 'nest-cli.json', 'package-lock.json']) {
    if (existsSync(path.join(ROOT, file))) visit(path.join(ROOT, file));
  }
  return newest;
}

/** Runs `npm run build` when dist/apps/api/main.js is missing or older than any source it comes from. */
export function ensureBuilt(log: (line: string) => void): void {
  if (API_MAIN !== BUILT_MAIN) {
    log(`build: skipped, BENCH_API_MAIN=${path.relative(ROOT, API_MAIN)}`);
    return;
  }
  const newest = newestSource();
  const built = existsSync(API_MAIN) ? statSync(API_MAIN).mtimeMs : 0;
  if (built >= newest.mtime) {
    log(`build: dist/apps/api/main.js is up to date`);
    return;
  }
  log(built === 0 ? 'build: dist/apps/api/main.js is missing; running npm run build' : `build: ${newest.file} is newer than dist; running npm run build`);
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const rebuilt = existsSync(API_MAIN) && statSync(API_MAIN).mtimeMs >= newest.mtime;
  if (result.status !== 0) {
    // `npm run build` is `nest build api && nest build worker`; only the API bundle matters here.
    if (!rebuilt) throw new Error(`npm run build failed (exit ${result.status}) and the API bundle was not rebuilt`);
    log('build: npm run build failed after the API bundle was rebuilt (the worker build?); benchmarking the fresh API bundle');
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Memory {
  rss: number;
  hwm: number;
}

/** VmRSS and VmHWM of a process, in bytes, from /proc/{pid}/status. */
export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false where the kernel does not allow it. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export class ApiProcess {
  private readonly output: string[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stopping = false;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      this.output.splice(0, Math.max(0, this.output.length - 60));
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

  /** True when the API died on its own (not stopped by us). */
  get crashed(): boolean {
    return this.exit !== undefined && !this.stopping;
  }

  lastOutput(): string {
    return this.output.join('\n');
  }

  /** Spawns `node dist/apps/api/main.js` the way production runs it and waits until it answers HTTP. */
  static async start(env: Record<string, string>, nodeArgs: string[]): Promise<ApiProcess> {
    const child = spawn(process.execPath, [...nodeArgs, API_MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const api = new ApiProcess(child, `http://127.0.0.1:${env.PORT}`);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (api.exit) throw new Error(`the API exited during start (${JSON.stringify(api.exit)}):\n${api.lastOutput()}`);
      try {
        await fetch(`${api.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        return api;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    child.kill('SIGKILL');
    throw new Error(`the API did not answer within 60 s:\n${api.lastOutput()}`);
  }

  /** SIGTERM (Nest's shutdown hooks close Redis and the queue), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exit) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
