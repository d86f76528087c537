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
      entrypoint: text(fields.entrypoint),
      configFile: text(fields.config_file),
      metadata: text(fields.metadata),
    });
    return SubmissionResponse.from(submission);
  }
}

/** A repeated form field arrives as an array; the last one wins, as in most form parsers. */
function text(value: unknown): string | undefined {
  if (Array.isArray(value)) return text(value[value.length - 1]);
  return typeof value === 'string' ? value : undefined;
}
