import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import Redis from 'ioredis';
import { AppConfig } from '@app/adapters';

export interface CheckResult {
  ok: boolean;
  detail: string;
  latency_ms: number;
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, CheckResult>;
}

const CHECK_TIMEOUT_MS = 2000;

/** Each dependency the API needs to serve requests, checked with a short timeout. */
@Injectable()
export class HealthChecks {
  constructor(
    private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  async run(): Promise<HealthReport> {
    const [redis, disk] = await Promise.all([
      timed(async () => `PING answered ${await this.redis.ping()}`),
      timed(async () => {
        const probe = path.join(this.config.uploadRoot, `.health-${randomUUID()}`);
        await writeFile(probe, 'ok');
        await rm(probe, { force: true });
        return `${this.config.uploadRoot} is writable`;
      }),
    ]);
    const checks = { redis, disk };
    return { status: Object.values(checks).every((check) => check.ok) ? 'ok' : 'unavailable', checks };
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
