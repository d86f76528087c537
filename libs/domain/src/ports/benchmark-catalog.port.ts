import { BenchmarkListing } from '../model/benchmark';

/** The benchmarks this host knows, read once at start; an invalid folder is listed, never fatal. */
export abstract class BenchmarkCatalogPort {
  /** Every benchmark folder, available or not, sorted by id. */
  abstract list(): BenchmarkListing[];
  abstract get(id: string): BenchmarkListing | undefined;
}
