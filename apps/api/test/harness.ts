import { INestApplication } from '@nestjs/common';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { AppConfig, loadConfig } from '@app/adapters';
import { mlflowUri } from '../../../test/mlflow';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../../test/redis';
import { ApiAppOptions, createApiApp } from '../src/app.factory';

export const TOKENS = { alice: 'alice-token-123', bob: 'bob-token-4567', admin: 'admin-token-89' };
export const auth = (user: keyof typeof TOKENS) => ({ Authorization: `Bearer ${TOKENS[user]}` });

export interface RunningApi {
  app: INestApplication;
  config: AppConfig;
  /** The environment the API was configured from, for a worker process to share. */
  env: Record<string, string>;
  url: string;
  server: ReturnType<INestApplication['getHttpServer']>;
  close(): Promise<void>;
}

/** Starts the real API on a free port with its own temp SHARED_DIR and Redis key prefix; silent unless `options` say where to log. */
export async function startApi(env: Record<string, string> = {}, options: ApiAppOptions = { logger: false }): Promise<RunningApi> {
  const sharedDir = await mkdtemp(path.join(tmpdir(), 'lb-e2e-'));
  // mkdtemp makes 0700; the sandbox user must be able to walk in to reach what is bound for it.
  await chmod(sharedDir, 0o755);
  const prefix = uniquePrefix('e2e');
  const fullEnv = {
    API_TOKENS: `alice:${TOKENS.alice},bob:${TOKENS.bob},admin:${TOKENS.admin}`,
    ADMIN_USERS: 'admin',
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    SHARED_DIR: sharedDir,
    MLFLOW_TRACKING_URI: mlflowUri(),
    ...env,
  };
  const config = loadConfig(fullEnv, { requireTokens: true });
  const app = await createApiApp(config, options);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    config,
    env: fullEnv,
    url: `http://127.0.0.1:${address.port}`,
    server: app.getHttpServer(),
    async close() {
      await app.close();
      const redis = new Redis(testRedisUrl());
      await deleteKeys(redis, prefix);
      // A worker process that stopped a moment ago may still flush a BullMQ key; sweep once more.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await deleteKeys(redis, prefix);
      await redis.quit();
      await rm(sharedDir, { recursive: true, force: true });
    },
  };
}
