import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The one error shape every route returns. */
export class ErrorBody {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({ example: 'entrypoint "../../etc/passwd" contains ".."; it must stay inside the submission' })
  message!: string;
  @ApiPropertyOptional({ type: [String], description: 'Every problem found, for validation errors' })
  details?: string[];
}
