import { Invalid, NotFound } from '../errors/domain-errors';
import { BenchmarkListing } from '../model/benchmark';
import { BenchmarkCatalogPort } from '../ports/benchmark-catalog.port';
import { BoardQuery, LeaderboardPort, RankedEntry } from '../ports/leaderboard.port';

export const MAX_BOARD_PAGE = 1000;
export const MAX_BOARD_OFFSET = 1_000_000;

export interface LeaderboardRow extends RankedEntry {
  /** The benchmark's secondary metrics, null where the scorer did not write one. */
  secondary: Record<string, number | null>;
}

export interface Leaderboard {
  listing: BenchmarkListing;
  rows: LeaderboardRow[];
  total: number;
}

/**
 * A page of a benchmark's board, from the snapshot alone. The board is public to every signed-in
 * user; jobs themselves stay private.
 */
export class GetLeaderboard {
  constructor(
    private readonly catalog: BenchmarkCatalogPort,
    private readonly board: LeaderboardPort,
  ) {}

  async execute(benchmarkId: string, query: BoardQuery): Promise<Leaderboard> {
    const listing = this.catalog.get(benchmarkId);
    if (!listing) throw new NotFound(`benchmark ${benchmarkId} does not exist; known benchmarks: ${knownIds(this.catalog)}`);
    const problems: string[] = [];
    if (!Number.isSafeInteger(query.offset) || query.offset < 0 || query.offset > MAX_BOARD_OFFSET) {
      problems.push(`offset must be a whole number from 0 to ${MAX_BOARD_OFFSET}`);
    }
    if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > MAX_BOARD_PAGE) {
      problems.push(`limit must be a whole number from 1 to ${MAX_BOARD_PAGE}`);
    }
    if (problems.length > 0) throw new Invalid(problems);
    const page = await this.board.page(benchmarkId, query);
    const secondaryNames = listing.available ? listing.benchmark.secondary : [];
    const rows = page.rows.map((row) => ({
      ...row,
      secondary: Object.fromEntries(secondaryNames.map((name) => [name, row.scores[name] ?? null])),
    }));
    return { listing, rows, total: page.total };
  }
}

/** The ids a person may pick from, for messages about an unknown one. */
export function knownIds(catalog: BenchmarkCatalogPort): string {
  const ids = catalog.list().map((listing) => listing.id);
  return ids.length > 0 ? ids.join(', ') : '(none configured)';
}
