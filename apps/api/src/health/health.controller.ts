import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator';
import { ApiErrors } from '../errors/api-errors.decorator';
import { HealthReportDoc } from './health.dto';
import { HealthChecks, HealthReport } from './health-checks';

@ApiTags('health')
@Controller('healthz')
export class HealthController {
  constructor(private readonly checks: HealthChecks) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness and dependencies (no token needed)' })
  @ApiOkResponse({ description: 'Every dependency answers', type: HealthReportDoc })
  @ApiServiceUnavailableResponse({ description: 'At least one dependency is down; `checks` says which', type: HealthReportDoc })
  // Malformed or repeated credential headers are refused on every route, this one included.
  @ApiErrors(400, 431)
  async health(@Res({ passthrough: true }) response: Response): Promise<HealthReport> {
    const report = await this.checks.run();
    response.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}
