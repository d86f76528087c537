import { INestApplicationContext, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AppConfig,
  ConfigError,
  createRootLogger,
  loadBenchmarkCatalog,
  loadConfig,
  nestLoggerFor,
  prepareDirectories,
  RootLogger,
  SandboxLayoutError,
} from '@app/adapters';
import { SandboxRunnerPort } from '@app/domain';
import { WorkerLifecycle } from './worker.lifecycle';
import { WorkerModule } from './worker.module';

const logger = new Logger('Worker');

function fail(message: string): never {
  logger.error(message);
  process.exit(1);
}

/** Checks config and the sandbox before taking any job: a worker that cannot isolate code refuses to start. */
async function main(): Promise<void> {
  let config: AppConfig;
  let root: RootLogger;
  try {
    config = loadConfig(process.env, { requireTokens: false });
    // From here every line, Nest's and ours, is a JSON line (or pretty with LOG_FORMAT=pretty).
    root = createRootLogger('worker', config);
    Logger.overrideLogger(nestLoggerFor(root));
    await prepareDirectories(config);
    // A broken benchmark folder is reported, never fatal: jobs on it fail with the same reason.
    for (const problem of loadBenchmarkCatalog(config).problems()) logger.warn(problem);
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
    throw error;
  }
  if (config.sandbox === 'none') {
    logger.warn('!!! SANDBOX=none: user code runs UNSANDBOXED, with this worker\'s user, network and files. Never do this with untrusted code. !!!');
  }
  let context: INestApplicationContext;
  try {
    context = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, root), { abortOnError: false, logger: nestLoggerFor(root) });
  } catch (error) {
    fail(`the worker cannot start: ${(error as Error).message}`);
  }
  let description: string;
  try {
    description = await context.get(SandboxRunnerPort).selfCheck();
  } catch (error) {
    await context.close();
    // A layout error names its own fix; bubblewrap is there and works.
    const hint = error instanceof SandboxLayoutError ? '' : '. Install bubblewrap, or set SANDBOX=none to run code unsandboxed (unsafe).';
    fail(`the sandbox cannot run jobs: ${(error as Error).message}${hint}`);
  }
  logger.log(`sandbox: ${description}`);
  // Our own handlers, so a graceful stop (jobs requeued) exits 0 instead of re-raising the signal.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal} received`);
      void context.close().then(
        () => process.exit(0),
        (error: Error) => fail(`shutdown failed: ${error.message}`),
      );
    });
  }
  await context.get(WorkerLifecycle).start(config.sandbox === 'none' ? `NONE (unsandboxed): ${description}` : description);
}

void main();
