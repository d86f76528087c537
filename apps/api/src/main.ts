import { Logger } from '@nestjs/common';
import { ConfigError, createRootLogger, loadBenchmarkCatalog, loadConfig, nestLoggerFor, RootLogger } from '@app/adapters';
import { createApiApp } from './app.factory';

async function main(): Promise<void> {
  let config;
  let root: RootLogger;
  try {
    config = loadConfig(process.env, { requireTokens: true });
    // From here every line is a JSON line (or pretty with LOG_FORMAT=pretty).
    root = createRootLogger('api', config);
    Logger.overrideLogger(nestLoggerFor(root));
    // Checked here so a bad DEFAULT_BENCHMARK is one line; a broken benchmark folder is only reported.
    for (const problem of loadBenchmarkCatalog(config).problems()) new Logger('Benchmarks').warn(problem);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`configuration error: ${error.message}`);
    process.exit(1);
  }
  const app = await createApiApp(config, { root });
  await app.listen(config.port);
  new Logger('Api').log(`listening on http://127.0.0.1:${config.port} (docs at /docs)`);
}

void main();
