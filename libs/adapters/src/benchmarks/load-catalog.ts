import { AppConfig } from '../config/app-config';
import { ConfigError } from '../config/config-error';
import { FileSystemBenchmarkCatalog } from './filesystem-benchmark-catalog';

/**
 * The catalog as the config names it. A DEFAULT_BENCHMARK with no folder is a start error; a folder
 * that is not a valid benchmark is not (it is listed as unavailable, see `problems()`).
 */
export function loadBenchmarkCatalog(config: AppConfig): FileSystemBenchmarkCatalog {
  const catalog = FileSystemBenchmarkCatalog.load(config.benchmarksDir, { required: config.benchmarksDirRequired });
  const fallback = config.defaultBenchmark;
  if (fallback !== null && !catalog.get(fallback)) {
    const known = catalog.list().map((listing) => listing.id);
    throw new ConfigError(
      `DEFAULT_BENCHMARK is "${fallback}", but ${config.benchmarksDir} has no such folder (benchmarks there: ${known.join(', ') || 'none'})`,
    );
  }
  return catalog;
}
