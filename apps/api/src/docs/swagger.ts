import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { AppConfig } from '@app/adapters';
import { ErrorBody } from '../errors/error-body.dto';

/** Swagger UI at /docs and the OpenAPI document at /docs-json. */
export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}

/** The OpenAPI document of the app: served at /docs-json, and written to docs/openapi.json by `npm run docs:api`. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('LeadersBoard API')
      .setDescription(
        'Upload Python code, run it in a sandbox, read its status, logs and MLflow results. ' +
          'Every route but /healthz and /docs needs `Authorization: Bearer <token>`. ' +
          'Errors are JSON of one shape, {statusCode, error, message}, on every route (the logs route too). ' +
          'A known path asked with a method it does not serve answers 405 with an `Allow` header.',
      )
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
    { extraModels: [ErrorBody] },
  );
  const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaObject>;
  // Unknown fields are refused (forbidNonWhitelisted, the upload's field list): say so.
  for (const name of ['CreateJobBody', 'CreateSubmissionForm']) if (schemas[name]) schemas[name].additionalProperties = false;
  // A limit that comes from the configuration, not from a decorator.
  const files = schemas.CreateSubmissionForm?.properties?.files as SchemaObject | undefined;
  if (files) files.maxItems = app.get(AppConfig).maxFilesPerSubmission;
  return document;
}
