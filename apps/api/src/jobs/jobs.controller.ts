import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res, UseInterceptors } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConsumes, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CancelJob, Caller, EnqueueJob, GetJobLogs, GetJobResults, GetJobStatus, Invalid, ListJobs } from '@app/domain';
import { CurrentCaller } from '../auth/caller.decorator';
import { ApiErrors, ApiProtected } from '../errors/api-errors.decorator';
import { JsonBody } from '../errors/json-body';
import {
  CreateJobBody,
  IDEMPOTENCY_KEY_PATTERN,
  IDEMPOTENCY_KEY_SCHEMA,
  JobListResponse,
  JobResponse,
  JobResultsResponse,
  ListJobsQuery,
  logHeaders,
  LogsQuery,
} from './job.dto';

@ApiTags('jobs')
@ApiProtected()
@Controller('jobs')
export class JobsController {
  constructor(
    private readonly enqueueJob: EnqueueJob,
    private readonly listJobs: ListJobs,
    private readonly getJobStatus: GetJobStatus,
    private readonly getJobLogs: GetJobLogs,
    private readonly getJobResults: GetJobResults,
    private readonly cancelJob: CancelJob,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Queue a run of a submission',
    description:
      'Idempotent: the same submission, config, resource class and Idempotency-Key give back the same job ' +
      '(with the header Idempotent-Replayed: true) instead of a second run. Send a new Idempotency-Key to re-run on purpose.',
  })
  @UseInterceptors(JsonBody)
  @ApiConsumes('application/json')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Up to 255 printable ASCII characters', schema: IDEMPOTENCY_KEY_SCHEMA })
  @ApiAcceptedResponse({
    type: JobResponse,
    headers: {
      Location: { description: 'Where to follow the job', required: true, schema: { type: 'string' } },
      'Idempotent-Replayed': { description: 'Sent (as "true") when an identical earlier request already made this job', schema: { type: 'string', enum: ['true'] } },
    },
  })
  @ApiErrors(403, 404, 413, 415, 503)
  async create(
    @CurrentCaller() caller: Caller,
    @Body() body: CreateJobBody,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<JobResponse> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      throw new Invalid(['Idempotency-Key must be 1 to 255 printable ASCII characters without spaces']);
    }
    const { job, created } = await this.enqueueJob.execute(caller, {
      submissionId: body.submission_id,
      config: body.config,
      resourceClass: body.resource_class,
      benchmark: body.benchmark,
      idempotencyKey,
    });
    if (!created) response.setHeader('Idempotent-Replayed', 'true');
    response.setHeader('Location', `/jobs/${job.jobId}/status`);
    return JobResponse.from(job);
  }

  @Get()
  @ApiOperation({ summary: 'Your jobs, newest first' })
  @ApiOkResponse({ type: JobListResponse })
  @ApiErrors(403, 503)
  async list(@CurrentCaller() caller: Caller, @Query() query: ListJobsQuery): Promise<JobListResponse> {
    const page = await this.listJobs.execute(caller, { offset: query.offset, limit: query.limit, allUsers: query.all === 'true' });
    return { jobs: page.jobs.map((job) => JobResponse.from(job)), total: page.total, offset: query.offset, limit: query.limit };
  }

  @Get(':id/status')
  @ApiOperation({ summary: 'A job\'s status' })
  @ApiOkResponse({ type: JobResponse })
  @ApiErrors(403, 404, 503)
  async status(@CurrentCaller() caller: Caller, @Param('id') jobId: string): Promise<JobResponse> {
    return JobResponse.from(await this.getJobStatus.execute(caller, jobId));
  }

  @Get(':id/logs')
  @ApiOperation({
    summary: 'A job\'s combined stdout and stderr',
    description: 'Up to 8 MiB from `offset`. X-Next-Offset says where to continue; poll with it to follow a running job.',
  })
  @ApiOkResponse({
    description: 'The log text (errors come as JSON, like on every route)',
    content: { 'text/plain': { schema: { type: 'string' } } },
    headers: {
      'X-Next-Offset': { description: 'The offset to pass next time', required: true, schema: { type: 'integer', minimum: 0 } },
      'X-Log-Size': { description: 'The log\'s size in bytes so far', required: true, schema: { type: 'integer', minimum: 0 } },
    },
  })
  @ApiErrors(403, 404, 503)
  async logs(
    @CurrentCaller() caller: Caller,
    @Param('id') jobId: string,
    @Query() query: LogsQuery,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const chunk = await this.getJobLogs.execute(caller, jobId, query.offset);
    response.set({ ...logHeaders(chunk), 'Content-Type': 'text/plain; charset=utf-8' });
    return chunk.text;
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel a pending or running job',
    description: 'A pending job leaves the queue; a running one is killed on whichever worker holds it and its MLflow run ends KILLED.',
  })
  @ApiAcceptedResponse({ type: JobResponse })
  @ApiErrors(403, 404, 409, 503)
  async cancel(@CurrentCaller() caller: Caller, @Param('id') jobId: string): Promise<JobResponse> {
    return JobResponse.from(await this.cancelJob.execute(caller, jobId));
  }

  @Get(':id/results')
  @ApiOperation({
    summary: 'A job\'s scores, its own metrics and MLflow links',
    description:
      '`scores` are the official ones, computed by the benchmark\'s scorer and ranked on the leaderboard. ' +
      '`reported_metrics` are whatever the job\'s code logged itself: never ranked. `metrics` is a deprecated alias of `reported_metrics`.',
  })
  @ApiOkResponse({ type: JobResultsResponse })
  @ApiErrors(403, 404, 409, 503)
  async results(@CurrentCaller() caller: Caller, @Param('id') jobId: string): Promise<JobResultsResponse> {
    return JobResultsResponse.from(await this.getJobResults.execute(caller, jobId));
  }
}
