import { benchmarkCatalogContract } from '../contracts/benchmark-catalog.contract';
import { available, InMemoryBenchmarkCatalog, sampleBenchmark } from './in-memory-benchmark-catalog';

describe('InMemoryBenchmarkCatalog', () =>
  benchmarkCatalogContract(async ({ valid, invalid }) =>
    new InMemoryBenchmarkCatalog([
      ...valid.map((id) => available(sampleBenchmark({ id }))),
      ...invalid.map((id) => ({ id, available: false as const, problem: 'benchmark.yaml: metric is missing' })),
    ]),
  ));
