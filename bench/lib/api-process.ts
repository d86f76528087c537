import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { buildIfStale, builtAt, ROOT } from './build';
import { ChildService } from './child-service';
import { createServer } from 'node:net';
import * as path from 'node:path';

export { ROOT };
export const BUILT_MAIN = path.join(ROOT, 'dist', 'apps', 'api', 'main.js');
/** BENCH_API_MAIN benchmarks another bundle (e.g. a patched copy) instead of the built one. */
export const API_MAIN = process.env.BENCH_API_MAIN ? path.resolve(process.env.BENCH_API_MAIN) : BUILT_MAIN;

/** Runs `npm run build` when dist/apps/api/main.js is missing or older than any source it comes from. */
export function ensureBuilt(log: (line: string) => void): void {
  if (API_MAIN !== BUILT_MAIN) {
    log(`build: skipped, BENCH_API_MAIN=${path.relative(ROOT, API_MAIN)}`);
    return;
  }
  const { status, newest } = buildIfStale([API_MAIN], ['apps/api/src', 'apps/api/tsconfig.app.json'], log);
  if (status !== 0) {
    // `npm run build` is `nest build api && nest build worker`; only the API bundle matters here.
    if (builtAt([API_MAIN]) < newest) throw new Error(`npm run build failed (exit ${status}) and the API bundle was not rebuilt`);
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

export class ApiProcess extends ChildService {
  private readonly output: string[] = [];

  private constructor(
    child: ChildProcess,
    readonly url: string,
  ) {
    super(child);
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      this.output.splice(0, Math.max(0, this.output.length - 60));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
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
  stop(): Promise<void> {
    return this.terminate(10_000);
  }
}
