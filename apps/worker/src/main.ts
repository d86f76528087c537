import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Redis from 'ioredis';
import { ConfigError, loadConfig } from '@app/adapters';
import { WorkerModule } from './worker.module';

/** Boots the worker context, checks Redis, and stays up until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const logger = new Logger('Worker');
  let config;
  try {
    config = loadConfig(process.env, { requireTokens: false });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`configuration error: ${error.message}`);
    process.exit(1);
  }
  const context = await NestFactory.createApplicationContext(WorkerModule.forRoot(config));
  context.enableShutdownHooks();
  const pong = await context.get(Redis).ping();
  logger.log(`connected to Redis (${pong}); the job processor is not part of this build yet, so no jobs are taken`);
}

void main();
