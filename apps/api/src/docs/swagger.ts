import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ErrorBody } from '../errors/error-body.dto';

/** Swagger UI at /docs and the OpenAPI document at /docs-json. */
export function setupSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('LeadersBoard API')
      .setDescription(
        'Upload Python code, run it in a sandbox, read its status, logs and MLflow results. ' +
          'Every route but /healthz needs `Authorization: Bearer <token>`. Errors share one shape: {statusCode, error, message}.',
      )
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
    { extraModels: [ErrorBody] },
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
