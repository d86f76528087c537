import { ApiProperty } from '@nestjs/swagger';
import { BenchmarkListing, BenchmarkSummary, MAX_BOARD_OFFSET, MAX_BOARD_PAGE, RANK_ORDERS } from '@app/domain';
import { QueryEnum, QueryInteger } from '../errors/query-params';

const UNAVAILABLE = 'null when the benchmark is unavailable';

export class BenchmarkResponse {
  @ApiProperty({ example: 'digits-anomaly', pattern: '^[a-z0-9-]{1,64}$', description: 'The benchmark\'s folder name under BENCHMARKS_DIR' })
  id!: string;
  @ApiProperty({ nullable: true, type: String, example: 'Digits anomaly detection', description: UNAVAILABLE }) title!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'Score each test image: higher means more anomalous.', description: UNAVAILABLE })
  description!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'image_AUROC', description: `The metric the board ranks by; ${UNAVAILABLE}` })
  metric!: string | null;
  @ApiProperty({ nullable: true, enum: [...RANK_ORDERS], example: 'desc', description: `desc: higher ranks first; asc: lower ranks first; ${UNAVAILABLE}` })
  order!: string | null;
  @ApiProperty({ nullable: true, type: [String], example: ['image_average_precision'], description: `Metrics shown beside the score; ${UNAVAILABLE}` })
  secondary!: string[] | null;
  @ApiProperty({ description: 'False when the benchmark\'s folder is invalid: jobs cannot be submitted to it' }) available!: boolean;
  @ApiProperty({ nullable: true, type: String, example: null, description: 'Why the benchmark is unavailable (names the file); null when available' })
  problem!: string | null;

  static from(listing: BenchmarkListing): BenchmarkResponse {
    if (!listing.available) {
      return { id: listing.id, title: null, description: null, metric: null, order: null, secondary: null, available: false, problem: listing.problem };
    }
    const { benchmark } = listing;
    return {
      id: benchmark.id,
      title: benchmark.title,
      description: benchmark.description,
      metric: benchmark.metric,
      order: benchmark.order,
      secondary: benchmark.secondary,
      available: true,
      problem: null,
    };
  }
}

export class BenchmarkSummaryResponse extends BenchmarkResponse {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Users with at least one ranked job' }) ranked_users!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Ranked jobs (every completed, scored job)' }) ranked_jobs!: number;

  static fromSummary(summary: BenchmarkSummary): BenchmarkSummaryResponse {
    return { ...BenchmarkResponse.from(summary.listing), ranked_users: summary.ranked.users, ranked_jobs: summary.ranked.jobs };
  }
}

export class BenchmarkListResponse {
  @ApiProperty({ type: [BenchmarkSummaryResponse], description: 'Every benchmark folder, sorted by id' }) benchmarks!: BenchmarkSummaryResponse[];
}

export class LeaderboardQuery {
  @QueryEnum('all', ['true', 'false'], { default: 'false', description: 'false: each user\'s best job only; true: every scored job' })
  all?: string;

  @QueryInteger('limit', { minimum: 1, maximum: MAX_BOARD_PAGE, default: 50, description: 'Page size' })
  limit = 50;

  @QueryInteger('offset', { minimum: 0, maximum: MAX_BOARD_OFFSET, default: 0, description: 'How many ranked rows to skip' })
  offset = 0;

  @QueryEnum('format', ['json', 'csv'], { default: 'json', description: 'csv: the same rows as a text/csv download' })
  format?: string;
}

export class LeaderboardRowResponse {
  @ApiProperty({ type: 'integer', minimum: 1, example: 1, description: '1 for the best; ties in score are broken by the earlier finish' }) rank!: number;
  @ApiProperty({ example: 'alice' }) user_id!: string;
  @ApiProperty({ example: '6f1c2b7e-0d4a-5c3e-9b8a-7d6e5f4a3b2c' }) job_id!: string;
  @ApiProperty({ example: '3f0c8a4e-2b1d-4c55-9a7e-1f2d3c4b5a69' }) submission_id!: string;
  @ApiProperty({ example: 0.97, description: 'The official value of the benchmark\'s metric, from its scorer' }) score!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number', nullable: true },
    example: { image_average_precision: 0.91 },
    description: 'The benchmark\'s secondary metrics, null where the scorer did not write one',
  })
  secondary!: Record<string, number | null>;
  @ApiProperty({ example: '2026-01-05T10:21:03.117Z' }) finished_at!: string;
  @ApiProperty({ nullable: true, type: String, example: 'http://127.0.0.1:5010/#/experiments/1/runs/abc', description: 'The job\'s MLflow run; null without one' })
  mlflow_run_link!: string | null;
}

export class LeaderboardResponse {
  @ApiProperty({ type: BenchmarkResponse }) benchmark!: BenchmarkResponse;
  @ApiProperty({ description: 'Whether every scored job is listed (true) or each user\'s best (false)' }) all!: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_BOARD_OFFSET }) offset!: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_BOARD_PAGE }) limit!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Ranked rows in all, over every page' }) total!: number;
  @ApiProperty({ type: [LeaderboardRowResponse] }) rows!: LeaderboardRowResponse[];
}

export class RebuildResponse {
  @ApiProperty({ example: 'digits-anomaly' }) benchmark!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Scored jobs now on the board' }) ranked!: number;
}
