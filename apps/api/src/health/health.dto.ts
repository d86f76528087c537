import { ApiProperty } from '@nestjs/swagger';

/** The documented shape of GET /healthz; HealthChecks builds it. */
class CheckResultDoc {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ example: 'PING answered PONG' }) detail!: string;
  @ApiProperty({ type: 'integer', minimum: 0 }) latency_ms!: number;
}

class WorkerDoc {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'bubblewrap' }) sandbox!: string;
  @ApiProperty({ type: 'integer' }) concurrency!: number;
  @ApiProperty({ type: [String] }) gpus!: string[];
  @ApiProperty({ type: [String], description: 'Job ids running now' }) running!: string[];
  @ApiProperty() startedAt!: string;
}

class ChecksDoc {
  @ApiProperty({ type: CheckResultDoc }) redis!: CheckResultDoc;
  @ApiProperty({ type: CheckResultDoc }) disk!: CheckResultDoc;
  @ApiProperty({ type: CheckResultDoc }) mlflow!: CheckResultDoc;
}

export class HealthReportDoc {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status!: string;
  @ApiProperty({ type: ChecksDoc })
  checks!: ChecksDoc;
  @ApiProperty({ type: [WorkerDoc] }) workers!: WorkerDoc[];
  @ApiProperty({ type: [String], description: 'E.g. a worker running code unsandboxed' }) warnings!: string[];
}
