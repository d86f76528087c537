import { RankOrder } from '../model/benchmark';
import { Scores } from '../model/scores';

/** A scored job as the board keeps it: a snapshot taken when it was scored, never re-read from MLflow. */
export interface BoardEntry {
  benchmarkId: string;
  jobId: string;
  userId: string;
  submissionId: string;
  /** The value of the benchmark's metric. */
  score: number;
  /** Every official score, the metric included. */
  scores: Scores;
  finishedAt: string;
  runId: string | null;
  experimentId: string | null;
}

export interface RankedEntry extends BoardEntry {
  rank: number;
}

export interface BoardQuery {
  /** false: each user's best job only; true: every scored job. */
  all: boolean;
  offset: number;
  limit: number;
}

export interface BoardPage {
  rows: RankedEntry[];
  total: number;
}

/**
 * Ranked snapshots, one board per benchmark: by score in the benchmark's order, ties broken by the
 * earlier finish (then the job id). Recording the same job again replaces its entry.
 */
export abstract class LeaderboardPort {
  abstract record(entry: BoardEntry, order: RankOrder): Promise<void>;
  abstract page(benchmarkId: string, query: BoardQuery): Promise<BoardPage>;
  /** Ranked users and ranked jobs of a board. */
  abstract counts(benchmarkId: string): Promise<{ users: number; jobs: number }>;
  /** Replaces a board with exactly these entries, in one step readers never see half done. */
  abstract replace(benchmarkId: string, order: RankOrder, entries: BoardEntry[]): Promise<void>;
}
