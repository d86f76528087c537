import { Controller, HttpCode, Post, Req, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Caller, CreateSubmission, Invalid } from '@app/domain';
import { CurrentCaller } from '../auth/caller.decorator';
import { ApiErrors, ApiProtected } from '../errors/api-errors.decorator';
import { CreateSubmissionForm, SubmissionResponse } from './submission.dto';
import { UPLOAD_FIELDS, UploadInterceptor } from './upload.interceptor';

@ApiTags('submissions')
@ApiProtected()
@Controller('submissions')
export class SubmissionsController {
  constructor(private readonly createSubmission: CreateSubmission) {}

  @Post()
  @HttpCode(201)
  @UseInterceptors(UploadInterceptor)
  @ApiOperation({ summary: 'Upload code as a new submission', description: 'Multipart upload, streamed to disk. Archives are unpacked safely.' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: CreateSubmissionForm })
  @ApiCreatedResponse({ type: SubmissionResponse })
  @ApiErrors(413, 503)
  async create(@CurrentCaller() caller: Caller, @Req() request: Request): Promise<SubmissionResponse> {
    const fields = (request.body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((name) => !UPLOAD_FIELDS.includes(name));
    if (unknown.length > 0) {
      throw new Invalid(unknown.map((name) => `"${name}" is not a known field; the fields are files, ${UPLOAD_FIELDS.join(', ')}`));
    }
    const files = (Array.isArray(request.files) ? request.files : []).map((file) => ({
      originalName: file.originalname,
      tempPath: file.path,
      size: file.size,
    }));
    const submission = await this.createSubmission.execute(caller, {
      files,
      entrypoint: text('entrypoint', fields.entrypoint),
      configFile: text('config_file', fields.config_file),
      metadata: text('metadata', fields.metadata),
    });
    return SubmissionResponse.from(submission);
  }
}

/**
 * One plain value per field. A repeated field or a bracketed one (`metadata[a]=1`) is refused, not
 * resolved: a client and the API must never read different values from the same request.
 */
function text(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new Invalid([`${name} was sent ${value.length} times; send it once`]);
  if (typeof value !== 'string') throw new Invalid([`${name} must be a plain form field (${name}=…), not ${name}[…]`]);
  return value;
}
