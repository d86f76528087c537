import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/public.decorator';
import { ApiMetrics } from './api-metrics';
import { MetricsAccess } from './metrics-access';

/**
 * Prometheus' scrape target. Left out of the OpenAPI document: it is for operators' tools, its
 * text format is Prometheus' own, and docs/operations.md describes it. @Public only because
 * MetricsAccess takes METRICS_TOKEN, which the AuthGuard does not know.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: ApiMetrics,
    private readonly access: MetricsAccess,
  ) {}

  @Get()
  @Public()
  async scrape(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.access.check(request);
    const text = await this.metrics.registry.metrics();
    response.setHeader('Content-Type', this.metrics.registry.contentType);
    response.setHeader('Cache-Control', 'no-store');
    // end(), not send(): send would add a charset to Prometheus' exact content type.
    response.end(text);
  }
}
