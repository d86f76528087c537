import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JSON_LIMITS, Submission } from '@app/domain';

/** The multipart form of POST /submissions, for the docs; parsing is done by the upload interceptor. */
export class CreateSubmissionForm {
  // maxItems is MAX_FILES_PER_SUBMISSION, filled in from the configuration by the docs setup.
  @ApiProperty({ type: 'array', items: { type: 'string', format: 'binary' }, minItems: 1, description: '.py .yaml .yml .json .txt .zip .tar.gz; archives are unpacked' })
  files!: unknown[];

  @ApiPropertyOptional({ default: 'main.py', description: 'Relative path of the .py file to run, inside the submission' })
  entrypoint?: string;

  @ApiPropertyOptional({ default: 'config.yaml', description: 'Relative path of the config file; optional when left at the default' })
  config_file?: string;

  @ApiPropertyOptional({
    description: `A JSON object as text, e.g. {"model": "resnet"}: at most ${JSON_LIMITS.maxBytes / 1024} KiB and ${JSON_LIMITS.maxDepth} levels deep`,
  })
  metadata?: string;
}

export class SubmissionResponse {
  @ApiProperty({ example: '3f0c8a4e-2b1d-4c55-9a7e-1f2d3c4b5a69' }) submission_id!: string;
  @ApiProperty({ example: 'alice' }) user_id!: string;
  @ApiProperty({ example: 'main.py' }) entrypoint!: string;
  @ApiProperty({ example: 'config.yaml', nullable: true, type: String, description: 'null when no config file was uploaded' })
  config_file!: string | null;
  @ApiProperty({ example: ['config.yaml', 'main.py', 'src/model.py'] }) files!: string[];
  @ApiProperty({ example: { model: 'resnet' } }) metadata!: Record<string, unknown>;
  @ApiProperty({ example: '2026-11-27T10:00:00.000Z' }) created_at!: string;

  static from(submission: Submission): SubmissionResponse {
    return {
      submission_id: submission.submissionId,
      user_id: submission.userId,
      entrypoint: submission.entrypoint,
      config_file: submission.configFile,
      files: submission.files,
      metadata: submission.metadata,
      created_at: submission.createdAt,
    };
  }
}
