import { BoardEntry, BoardPage, BoardQuery, LeaderboardPort, RankOrder } from '@app/domain';

interface Stored {
  entry: BoardEntry;
  order: RankOrder;
}

/** The board kept in a map and sorted on every read: slow, obviously right, for unit tests. */
export class InMemoryLeaderboard extends LeaderboardPort {
  private readonly boards = new Map<string, Map<string, Stored>>();

  async record(entry: BoardEntry, order: RankOrder): Promise<void> {
    const board = this.boards.get(entry.benchmarkId) ?? new Map<string, Stored>();
    board.set(entry.jobId, { entry: structuredClone(entry), order });
    this.boards.set(entry.benchmarkId, board);
  }

  async page(benchmarkId: string, query: BoardQuery): Promise<BoardPage> {
    const ranked = this.ranked(benchmarkId, query.all);
    const rows = ranked.slice(query.offset, query.offset + query.limit).map((entry, index) => ({ ...structuredClone(entry), rank: query.offset + index + 1 }));
    return { rows, total: ranked.length };
  }

  async counts(benchmarkId: string): Promise<{ users: number; jobs: number }> {
    return { users: this.ranked(benchmarkId, false).length, jobs: this.ranked(benchmarkId, true).length };
  }

  async replace(benchmarkId: string, order: RankOrder, entries: BoardEntry[]): Promise<void> {
    this.boards.set(benchmarkId, new Map(entries.map((entry) => [entry.jobId, { entry: structuredClone(entry), order }])));
  }

  private ranked(benchmarkId: string, all: boolean): BoardEntry[] {
    const stored = [...(this.boards.get(benchmarkId)?.values() ?? [])];
    const sorted = stored.sort(compare).map((item) => item.entry);
    if (all) return sorted;
    const seen = new Set<string>();
    return sorted.filter((entry) => !seen.has(entry.userId) && seen.add(entry.userId));
  }
}

/** Better score first in the entry's order, then the earlier finish, then the job id. */
function compare(a: Stored, b: Stored): number {
  const byScore = a.order === 'desc' ? b.entry.score - a.entry.score : a.entry.score - b.entry.score;
  if (byScore !== 0) return byScore;
  const byFinish = Date.parse(a.entry.finishedAt) - Date.parse(b.entry.finishedAt);
  if (byFinish !== 0) return byFinish;
  return a.entry.jobId < b.entry.jobId ? -1 : a.entry.jobId > b.entry.jobId ? 1 : 0;
}
