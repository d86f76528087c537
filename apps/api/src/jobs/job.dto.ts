import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateBy } from 'class-validator';
import {
  BENCHMARK_ID,
  Job,
  JOB_STATUSES,
  JobMetrics,
  JobResults,
  JSON_LIMITS,
  jsonObjectProblem,
  LogChunk,
  MAX_LIST_OFFSET,
  MAX_LOG_OFFSET,
  MAX_PAGE_SIZE,
  METRIC_HISTORY_LIMITS,
  RESOURCE_CLASSES,
  ResourceClass,
} from '@app/domain';
import { QueryEnum, QueryInteger } from '../errors/query-params';

export const MAX_SUBMISSION_ID_LENGTH = 64;

export class CreateJobBody {
  @ApiProperty({ example: '3f0c8a4e-2b1d-4c55-9a7e-1f2d3c4b5a69', minLength: 1, maxLength: MAX_SUBMISSION_ID_LENGTH })
  @IsString({ message: 'submission_id must be a string' })
  @IsNotEmpty({ message: 'submission_id is required; use the id POST /submissions returned' })
  @MaxLength(MAX_SUBMISSION_ID_LENGTH, { message: `submission_id must be at most ${MAX_SUBMISSION_ID_LENGTH} characters` })
  submission_id!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { lr: 0.01, epochs: 3 },
    description:
      `Deep-merged over the submission's config file. At most ${JSON_LIMITS.maxBytes / 1024} KiB as JSON and ` +
      `${JSON_LIMITS.maxDepth} levels deep; the keys __proto__, constructor and prototype are refused.`,
  })
  @IsOptional()
  @IsObject({ message: 'config must be a JSON object' })
  @ValidateBy({
    name: 'jsonLimits',
    validator: {
      validate: (value: unknown) => jsonObjectProblem('config', value) === null,
      defaultMessage: (args) => jsonObjectProblem('config', args?.value) ?? 'config is invalid',
    },
  })
  config?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: RESOURCE_CLASSES, default: 'small' })
  @IsOptional()
  @IsIn(RESOURCE_CLASSES, { message: `resource_class must be one of ${RESOURCE_CLASSES.join(', ')}` })
  resource_class?: ResourceClass;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    pattern: BENCHMARK_ID.source,
    example: 'digits-anomaly',
    description:
      'The benchmark to score the job on (GET /benchmarks lists them). Left out: the server\'s DEFAULT_BENCHMARK, if one is set; ' +
      'null: none, a plain experiment that is tracked in MLflow and ranked nowhere. An unknown or unavailable benchmark is a 400.',
  })
  // IsOptional lets null through: null is a meaningful value here (no benchmark).
  @IsOptional()
  @IsString({ message: 'benchmark must be a benchmark id (a string) or null' })
  @Matches(BENCHMARK_ID, { message: 'benchmark must be a benchmark id: 1 to 64 lowercase letters, digits and dashes (GET /benchmarks lists them), or null' })
  benchmark?: string | null;
}

export class ListJobsQuery {
  @QueryInteger('offset', { minimum: 0, maximum: MAX_LIST_OFFSET, default: 0, description: 'How many of the newest jobs to skip' })
  offset = 0;

  @QueryInteger('limit', { minimum: 1, maximum: MAX_PAGE_SIZE, default: 20, description: 'Page size' })
  limit = 20;

  @QueryEnum('all', ['true', 'false'], { default: 'false', description: 'Admins only: every user\'s jobs' })
  all?: string;
}

export class LogsQuery {
  @QueryInteger('offset', {
    minimum: 0,
    maximum: MAX_LOG_OFFSET,
    default: 0,
    description: 'Byte offset to read from; pass the previous X-Next-Offset to follow a live log. With follow=true a Last-Event-ID header wins over it.',
  })
  offset = 0;

  @QueryEnum('follow', ['true', 'false'], {
    default: 'false',
    description: 'true: stream the log as Server-Sent Events (text/event-stream) until the job is final, instead of one text/plain chunk',
  })
  follow?: string;
}

export class JobResponse {
  @ApiProperty() job_id!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiProperty() submission_id!: string;
  @ApiProperty() user_id!: string;
  @ApiProperty({ nullable: true, type: String }) run_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) experiment_id!: string | null;
  @ApiProperty() entrypoint!: string;
  @ApiProperty({ nullable: true, type: String }) config_file!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { lr: 0.01 } }) config!: Record<string, unknown>;
  @ApiProperty({ enum: RESOURCE_CLASSES }) resource_class!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
  @ApiProperty({ nullable: true, type: String }) started_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) finished_at!: string | null;
  @ApiProperty({ nullable: true, type: String, example: null }) error_message!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'digits-anomaly', description: 'The benchmark the job is scored on; null for a plain experiment' })
  benchmark!: string | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { image_AUROC: 0.93, image_average_precision: 0.88 },
    description: 'Official scores, written by the benchmark\'s scorer after the job succeeded; null until then and for plain experiments',
  })
  scores!: Record<string, number> | null;

  static from(job: Job): JobResponse {
    return {
      job_id: job.jobId,
      status: job.status,
      submission_id: job.submissionId,
      user_id: job.userId,
      run_id: job.runId,
      experiment_id: job.experimentId,
      entrypoint: job.entrypoint,
      config_file: job.configFile,
      config: job.config,
      resource_class: job.resourceClass,
      created_at: job.createdAt,
      updated_at: job.updatedAt,
      started_at: job.startedAt,
      finished_at: job.finishedAt,
      error_message: job.errorMessage,
      benchmark: job.benchmark,
      scores: job.scores,
    };
  }
}

export class JobListResponse {
  @ApiProperty({ type: [JobResponse] }) jobs!: JobResponse[];
  @ApiProperty({ type: 'integer', minimum: 0 }) total!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) offset!: number;
  @ApiProperty({ type: 'integer', minimum: 1 }) limit!: number;
}

const REPORTED = 'What the job\'s own code logged to its MLflow run: self-reported, shown for the author\'s use and never ranked.';

export class JobResultsResponse {
  @ApiProperty() job_id!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiProperty() run_id!: string;
  @ApiProperty() experiment_id!: string;
  @ApiProperty({ nullable: true, type: String, example: 'digits-anomaly', description: 'The benchmark the job is scored on; null for a plain experiment' })
  benchmark!: string | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { image_AUROC: 0.93, image_average_precision: 0.88 },
    description:
      'OFFICIAL scores: computed by the benchmark\'s trusted scorer from the job\'s predictions and the hidden reference data; ' +
      'the leaderboard ranks these. Null for a plain experiment, or when the job was not scored.',
  })
  scores!: Record<string, number> | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { train_loss: 0.12, my_auroc: 0.99 }, description: REPORTED })
  reported_metrics!: Record<string, number>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { train_loss: 0.12, my_auroc: 0.99 },
    deprecated: true,
    description: `DEPRECATED: the same as reported_metrics, kept for one release; read reported_metrics. ${REPORTED}`,
  })
  metrics!: Record<string, number>;
  @ApiProperty({ example: 'http://127.0.0.1:5010/#/experiments/1/runs/abc' }) mlflow_ui_link!: string;
  @ApiProperty({ example: 'http://127.0.0.1:5010/api/2.0/mlflow/runs/get?run_id=abc' }) mlflow_rest_link!: string;

  static from(results: JobResults): JobResultsResponse {
    return {
      job_id: results.job.jobId,
      status: results.job.status,
      run_id: results.runId,
      experiment_id: results.experimentId,
      benchmark: results.benchmark,
      scores: results.scores,
      reported_metrics: results.reportedMetrics,
      metrics: results.reportedMetrics,
      mlflow_ui_link: results.mlflowUiLink,
      mlflow_rest_link: results.mlflowRestLink,
    };
  }
}

export function logHeaders(chunk: LogChunk): Record<string, string> {
  return { 'X-Next-Offset': String(chunk.nextOffset), 'X-Log-Size': String(chunk.size) };
}

/** Documented and enforced from the same pattern. */
export const IDEMPOTENCY_KEY_SCHEMA = { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$', minLength: 1, maxLength: 255 } as const;
export const IDEMPOTENCY_KEY_PATTERN = new RegExp(IDEMPOTENCY_KEY_SCHEMA.pattern);

export class MetricPointResponse {
  @ApiProperty({ type: 'integer', example: 3 }) step!: number;
  @ApiProperty({ type: Number, nullable: true, example: 0.42, description: 'null for NaN or an infinity, which JSON cannot carry' }) value!: number | null;
  @ApiProperty({ type: 'integer', example: 1767225600000, description: 'Epoch milliseconds' }) timestamp!: number;
}

@ApiExtraModels(MetricPointResponse)
export class JobMetricsResponse {
  @ApiProperty() job_id!: string;
  @ApiProperty() run_id!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { $ref: getSchemaPath(MetricPointResponse) } },
    example: { train_loss: [{ step: 0, value: 0.9, timestamp: 1767225600000 }, { step: 1, value: 0.5, timestamp: 1767225601000 }] },
    description:
      `Each metric's history ordered by step, keys as logged: the job's own metrics and the official copies under leaderboard.* ` +
      `that the scorer wrote. At most ${METRIC_HISTORY_LIMITS.pointsPerMetric} points per metric and ${METRIC_HISTORY_LIMITS.metrics} metrics (the first in sorted order).`,
  })
  metrics!: Record<string, MetricPointResponse[]>;
  @ApiProperty({ type: [String], description: `Metrics whose history was cut at ${METRIC_HISTORY_LIMITS.pointsPerMetric} points` })
  truncated!: string[];
  @ApiProperty({ type: [String], description: `Metrics past the first ${METRIC_HISTORY_LIMITS.metrics}, not read` })
  omitted!: string[];

  static from(result: JobMetrics): JobMetricsResponse {
    return { job_id: result.job.jobId, run_id: result.runId, metrics: result.metrics, truncated: result.truncated, omitted: result.omitted };
  }
}
