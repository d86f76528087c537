import { BenchmarkListing } from '../model/benchmark';
import { BenchmarkCatalogPort } from '../ports/benchmark-catalog.port';
import { LeaderboardPort } from '../ports/leaderboard.port';

export interface BenchmarkSummary {
  listing: BenchmarkListing;
  /** Users with a ranked job, and ranked jobs. */
  ranked: { users: number; jobs: number };
}

/** Every configured benchmark with the size of its board; unavailable ones say why. */
export class ListBenchmarks {
  constructor(
    private readonly catalog: BenchmarkCatalogPort,
    private readonly board: LeaderboardPort,
  ) {}

  async execute(): Promise<BenchmarkSummary[]> {
    const listings = this.catalog.list();
    const counts = await Promise.all(listings.map((listing) => this.board.counts(listing.id)));
    return listings.map((listing, index) => ({ listing, ranked: counts[index] }));
  }
}
