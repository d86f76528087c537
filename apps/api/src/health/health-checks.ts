import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import Redis from 'ioredis';
import { AppConfig, WorkerInfo, WorkerRegistry } from '@app/adapters';

export interface CheckResult {
  ok: boolean;
  detail: string;
  latency_ms: number;
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, CheckResult>;
  /** Live workers from their heartbeats; informative, a queue without workers still accepts jobs. */
  workers: WorkerInfo[];
  warnings: string[];
}

const CHECK_TIMEOUT_MS = 2000;

/** Each dependency the API needs to serve requests, checked with a short timeout. */
@Injectable()
export class HealthChecks {
  private readonly registry: WorkerRegistry;

  constructor(
    private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {
    this.registry = new WorkerRegistry(redis, config.redisPrefix);
  }

  async run(): Promise<HealthReport> {
    const [redis, disk, mlflow, workers] = await Promise.all([
      timed(async () => `PING answered ${await this.redis.ping()}`),
      timed(async () => {
        const probe = path.join(this.config.uploadRoot, `.health-${randomUUID()}`);
        await writeFile(probe, 'ok');
        await rm(probe, { force: true });
        return `${this.config.uploadRoot} is writable`;
      }),
      timed(async () => {
        const response = await fetch(`${this.config.mlflowTrackingUri.replace(/\/+$/, '')}/health`, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
        if (!response.ok) throw new Error(`${this.config.mlflowTrackingUri} answered ${response.status}`);
        return `${this.config.mlflowTrackingUri} answers`;
      }),
      this.registry.list().catch(() => [] as WorkerInfo[]),
    ]);
    const checks = { redis, disk, mlflow };
    const warnings = workers
      .filter((worker) => worker.sandbox.startsWith('NONE'))
      .map((worker) => `worker ${worker.id} runs user code UNSANDBOXED (SANDBOX=none)`);
    return { status: Object.values(checks).every((check) => check.ok) ? 'ok' : 'unavailable', checks, workers, warnings };
  }
}

async function timed(check: () => Promise<string>): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    const detail = await Promise.race([check(), timeout]);
    return { ok: true, detail, latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, detail: (error as Error).message, latency_ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}
