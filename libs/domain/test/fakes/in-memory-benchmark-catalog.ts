import { Benchmark, BenchmarkCatalogPort, BenchmarkListing } from '@app/domain';

/** A fixed catalog for unit tests. */
export class InMemoryBenchmarkCatalog extends BenchmarkCatalogPort {
  private readonly listings: BenchmarkListing[];

  constructor(listings: BenchmarkListing[] = []) {
    super();
    this.listings = [...listings].sort((a, b) => a.id.localeCompare(b.id));
  }

  list(): BenchmarkListing[] {
    return [...this.listings];
  }

  get(id: string): BenchmarkListing | undefined {
    return this.listings.find((listing) => listing.id === id);
  }
}

/** A usable benchmark with made-up paths. */
export function sampleBenchmark(overrides: Partial<Benchmark> = {}): Benchmark {
  const id = overrides.id ?? 'digits';
  return {
    id,
    title: 'Digits',
    description: 'Find the odd digit.',
    metric: 'auc',
    order: 'desc',
    secondary: ['ap'],
    scorer: { timeoutSeconds: 60, memoryMb: 512 },
    publicDir: `/benchmarks/${id}/public`,
    referenceDir: `/benchmarks/${id}/reference`,
    scorerPath: `/benchmarks/${id}/score.py`,
    ...overrides,
  };
}

export function available(benchmark: Benchmark): BenchmarkListing {
  return { id: benchmark.id, available: true, benchmark };
}
