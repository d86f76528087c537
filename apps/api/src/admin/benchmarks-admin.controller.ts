import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller, RebuildLeaderboard } from '@app/domain';
import { CurrentCaller } from '../auth/caller.decorator';
import { ApiBenchmarkId, checkBenchmarkId } from '../benchmarks/benchmark-id';
import { RebuildResponse } from '../benchmarks/benchmark.dto';
import { ApiErrors, ApiProtected } from '../errors/api-errors.decorator';

@ApiTags('admin')
@ApiProtected()
@Controller('admin/benchmarks')
export class BenchmarksAdminController {
  constructor(private readonly rebuildLeaderboard: RebuildLeaderboard) {}

  @Post(':id/leaderboard/rebuild')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rebuild a benchmark\'s leaderboard from the stored jobs (admins only)',
    description:
      'Ranks again every completed job on the benchmark from the scores stored with it, with the benchmark\'s current metric and order: ' +
      'after benchmark.yaml changed, or when a board was lost. Readers see the old board until the new one replaces it in one step.',
  })
  @ApiBenchmarkId()
  @ApiOkResponse({ type: RebuildResponse })
  @ApiErrors(403, 404, 503)
  async rebuild(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<RebuildResponse> {
    const { ranked } = await this.rebuildLeaderboard.execute(caller, checkBenchmarkId(id));
    return { benchmark: id, ranked };
  }
}
