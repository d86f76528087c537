import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppConfig } from '@app/adapters';
import { GetLeaderboard, Leaderboard, LeaderboardRow, ListBenchmarks } from '@app/domain';
import { ApiErrors, ApiProtected } from '../errors/api-errors.decorator';
import { ApiBenchmarkId, checkBenchmarkId } from './benchmark-id';
import { BenchmarkListResponse, BenchmarkResponse, BenchmarkSummaryResponse, LeaderboardQuery, LeaderboardResponse, LeaderboardRowResponse } from './benchmark.dto';
import { toCsv } from './csv';

@ApiTags('benchmarks')
@ApiProtected()
@Controller('benchmarks')
export class BenchmarksController {
  constructor(
    private readonly listBenchmarks: ListBenchmarks,
    private readonly getLeaderboard: GetLeaderboard,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Every benchmark, with the size of its board',
    description: 'A benchmark whose folder is invalid is listed as unavailable, with the problem that names the file.',
  })
  @ApiOkResponse({ type: BenchmarkListResponse })
  @ApiErrors(503)
  async list(): Promise<BenchmarkListResponse> {
    const summaries = await this.listBenchmarks.execute();
    return { benchmarks: summaries.map((summary) => BenchmarkSummaryResponse.fromSummary(summary)) };
  }

  @Get(':id/leaderboard')
  @ApiOperation({
    summary: 'A benchmark\'s leaderboard',
    description:
      'Ranked by the official score from the benchmark\'s scorer (never by what a job logged itself), in the benchmark\'s order; ' +
      'ties go to the earlier finish. Served from the snapshot taken when each job was scored, so later edits in MLflow do not move it. ' +
      'Every signed-in user may read every board; the jobs themselves stay private to their owners. ' +
      '`format=csv` gives the same rows as a download, one column per secondary metric.',
  })
  @ApiBenchmarkId()
  @ApiExtraModels(LeaderboardResponse)
  @ApiOkResponse({
    description: 'The page of the board: JSON, or CSV with `format=csv`',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(LeaderboardResponse) } },
      'text/csv': {
        schema: { type: 'string' },
        example: 'rank,user_id,job_id,submission_id,score,image_average_precision,finished_at,mlflow_run_link\r\n1,alice,6f1c…,3f0c…,0.97,0.91,2026-01-05T10:21:03.117Z,http://127.0.0.1:5010/#/experiments/1/runs/abc\r\n',
      },
    },
    headers: {
      'Content-Disposition': { description: 'With format=csv: attachment; filename="<id>-leaderboard.csv"', schema: { type: 'string' } },
    },
  })
  @ApiErrors(404, 503)
  async leaderboard(
    @Param('id') id: string,
    @Query() query: LeaderboardQuery,
    @Res({ passthrough: true }) response: Response,
  ): Promise<LeaderboardResponse | string> {
    const all = query.all === 'true';
    const board = await this.getLeaderboard.execute(checkBenchmarkId(id), { all, offset: query.offset, limit: query.limit });
    const rows = board.rows.map((row) => this.rowOf(row));
    if (query.format === 'csv') {
      response.set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${id}-leaderboard.csv"` });
      return csvOf(board, rows);
    }
    return { benchmark: BenchmarkResponse.from(board.listing), all, offset: query.offset, limit: query.limit, total: board.total, rows };
  }

  private rowOf(row: LeaderboardRow): LeaderboardRowResponse {
    const base = this.config.mlflowPublicUri.replace(/\/+$/, '');
    return {
      rank: row.rank,
      user_id: row.userId,
      job_id: row.jobId,
      submission_id: row.submissionId,
      score: row.score,
      secondary: row.secondary,
      finished_at: row.finishedAt,
      mlflow_run_link: row.runId && row.experimentId ? `${base}/#/experiments/${row.experimentId}/runs/${row.runId}` : null,
    };
  }
}

function csvOf(board: Leaderboard, rows: LeaderboardRowResponse[]): string {
  const secondary = board.listing.available ? board.listing.benchmark.secondary : [];
  return toCsv(
    ['rank', 'user_id', 'job_id', 'submission_id', 'score', ...secondary, 'finished_at', 'mlflow_run_link'],
    rows.map((row) => [
      row.rank,
      row.user_id,
      row.job_id,
      row.submission_id,
      row.score,
      ...secondary.map((name) => row.secondary[name] ?? null),
      row.finished_at,
      row.mlflow_run_link,
    ]),
  );
}
