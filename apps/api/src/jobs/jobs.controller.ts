import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res, UseInterceptors } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConsumes, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  CancelJob,
  Caller,
  EnqueueJob,
  FollowJobLog,
  GetJobLogs,
  GetJobMetrics,
  GetJobResults,
  GetJobStatus,
  Invalid,
  ListJobs,
  LOG_FOLLOWER_LIMITS,
  METRIC_HISTORY_LIMITS,
  RerunJob,
} from '@app/domain';
import { CurrentCaller } from '../auth/caller.decorator';
import { ApiErrors, ApiProtected } from '../errors/api-errors.decorator';
import { JsonBody } from '../errors/json-body';
import {
  CreateJobBody,
  IDEMPOTENCY_KEY_PATTERN,
  IDEMPOTENCY_KEY_SCHEMA,
  JobListResponse,
  JobMetricsResponse,
  JobResponse,
  JobResultsResponse,
  ListJobsQuery,
  logHeaders,
  LogsQuery,
} from './job.dto';
import { LogFollowHub } from './log-follow-hub';
import { sseFollower } from './sse-log-stream';

/** Last-Event-ID as the stream sends it: a byte offset in plain digits. */
const LAST_EVENT_ID = /^[0-9]{1,16}$/;

const FOLLOW_FORMAT =
  'With `follow=true` the answer is a text/event-stream (Server-Sent Events) that stays open until the job is final: ' +
  'each log event carries `data: {"text": "<the next piece of the log>"}` and `id: <the byte offset after it>`; send that id back as ' +
  'Last-Event-ID (or as offset) to resume without loss or repeats. `event: restart` (id 0) means a new attempt of the job started its ' +
  'log over. The stream ends with `event: end`, `data: {"status": "<final status>", "error_message": <string or null>}`, sent after ' +
  'the last byte of the log. A comment line (`: keep-alive`) comes every 15 s while nothing else does. ' +
  `At most ${LOG_FOLLOWER_LIMITS.perJob} followers per job and ${LOG_FOLLOWER_LIMITS.total} in all per server: past that, 429 with Retry-After. ` +
  'Browsers: EventSource cannot send the bearer token; read the stream with fetch instead.';

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
    private readonly rerunJob: RerunJob,
    private readonly getJobMetrics: GetJobMetrics,
    private readonly followJobLog: FollowJobLog,
    private readonly logFollowers: LogFollowHub,
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
    summary: 'A job\'s combined stdout and stderr, as text or as a live stream',
    description: `Up to 8 MiB from \`offset\`. X-Next-Offset says where to continue; poll with it to follow a running job. ${FOLLOW_FORMAT}`,
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'With follow=true: the id of the last event received, to resume after it (wins over offset); ignored without follow, but still checked',
    schema: { type: 'string', pattern: LAST_EVENT_ID.source },
  })
  @ApiOkResponse({
    description: 'The log text, or with follow=true the event stream (errors come as JSON, like on every route)',
    content: {
      'text/plain': { schema: { type: 'string' } },
      // The schema of one event, as SSE clients (and schemathesis) read it.
      'text/event-stream': {
        schema: {
          type: 'object',
          required: ['data'],
          properties: {
            event: { type: 'string', enum: ['end', 'restart'], description: 'Absent for a piece of the log' },
            id: { type: 'string', pattern: LAST_EVENT_ID.source, description: 'The byte offset to resume from' },
            data: {
              type: 'string',
              description: 'JSON: {"text": string} for a piece of the log; {"status": string|null, "error_message": string|null} for end; {} for restart',
            },
          },
        },
        example: 'id: 12\ndata: {"text":"epoch 1/3\\n"}\n\nevent: end\nid: 12\ndata: {"status":"completed","error_message":null}\n\n',
      },
    },
    headers: {
      'X-Next-Offset': { description: 'The offset to pass next time (for a stream: where it starts)', required: true, schema: { type: 'integer', minimum: 0 } },
      'X-Log-Size': { description: 'The log\'s size in bytes so far', required: true, schema: { type: 'integer', minimum: 0 } },
    },
  })
  @ApiErrors(403, 404, 503)
  async logs(
    @CurrentCaller() caller: Caller,
    @Param('id') jobId: string,
    @Query() query: LogsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    // Checked with or without follow: a malformed header is the client's bug either way.
    const resumeAt = lastEventId === undefined ? undefined : resumeOffset(lastEventId);
    if (query.follow === 'true') return this.follow(caller, jobId, resumeAt ?? query.offset, response);
    const chunk = await this.getJobLogs.execute(caller, jobId, query.offset);
    response.set({ ...logHeaders(chunk), 'Content-Type': 'text/plain; charset=utf-8' }).send(chunk.text);
  }

  private async follow(caller: Caller, jobId: string, offset: number, response: Response): Promise<void> {
    const { size } = await this.followJobLog.execute(caller, jobId, offset);
    if (response.req.socket.destroyed) return;
    const follower = sseFollower(response);
    // Subscribing first: over the caps it throws, and the client gets a JSON 429, not a stream.
    const stop = this.logFollowers.follow(jobId, offset, follower);
    response.on('close', stop);
    follower.open({ 'X-Next-Offset': String(offset), 'X-Log-Size': String(size) });
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

  @Post(':id/rerun')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Queue the same run again',
    description:
      'A new job with the same submission, config, resource class and benchmark, under a fresh idempotency key, and the same rate limits as POST /jobs. ' +
      'The owner or an admin may re-run a job; the new job always belongs to the original job\'s owner and counts against the owner\'s limits. ' +
      '409 when the submission was deleted or the benchmark is gone.',
  })
  @ApiAcceptedResponse({
    type: JobResponse,
    headers: { Location: { description: 'Where to follow the new job', required: true, schema: { type: 'string' } } },
  })
  @ApiErrors(403, 404, 409, 503)
  async rerun(@CurrentCaller() caller: Caller, @Param('id') jobId: string, @Res({ passthrough: true }) response: Response): Promise<JobResponse> {
    const { job } = await this.rerunJob.execute(caller, jobId);
    response.setHeader('Location', `/jobs/${job.jobId}/status`);
    return JobResponse.from(job);
  }

  @Get(':id/metrics')
  @ApiOperation({
    summary: 'Every metric\'s history, for charts',
    description:
      `Read from the job's MLflow run: at most ${METRIC_HISTORY_LIMITS.pointsPerMetric} points per metric and ${METRIC_HISTORY_LIMITS.metrics} metrics ` +
      '(`truncated` and `omitted` name what was cut). 409 before the job has a run; 503 while the tracking server is down (status and logs still work).',
  })
  @ApiOkResponse({ type: JobMetricsResponse })
  @ApiErrors(403, 404, 409, 503)
  async metrics(@CurrentCaller() caller: Caller, @Param('id') jobId: string): Promise<JobMetricsResponse> {
    return JobMetricsResponse.from(await this.getJobMetrics.execute(caller, jobId));
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

function resumeOffset(lastEventId: string): number {
  if (!LAST_EVENT_ID.test(lastEventId)) throw new Invalid(['Last-Event-ID must be a byte offset in plain decimal digits, as the stream sent it']);
  return Number(lastEventId);
}
