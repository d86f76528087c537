/**
 * Prints the API's OpenAPI document (what /docs-json serves) as stable JSON, built from the API's
 * module graph. Settings are fixed here, so the document is the same on every machine: it
 * describes the defaults. Used by scripts/docs-api.sh.
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@app/adapters';
import { AppModule } from '../apps/api/src/app.module';
import { buildOpenApiDocument } from '../apps/api/src/docs/swagger';

async function main(): Promise<void> {
  const config = loadConfig(
    {
      API_TOKENS: 'openapi:document-only-token',
      // Never created: nothing below touches the disk.
      SHARED_DIR: path.join(tmpdir(), 'lb-openapi-document'),
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
      REDIS_PREFIX: 'openapi-document',
      BENCHMARKS_DIR: path.resolve(__dirname, '..', 'benchmarks'),
    },
    { requireTokens: true },
  );
  // Preview mode scans modules and controllers (all the document needs) but runs no provider
  // factory: no Redis client, no BullMQ queue, no directories. So no Redis server is needed.
  const app = await NestFactory.create(AppModule.forRoot(config), { preview: true, logger: false, bodyParser: false });
  const document = buildOpenApiDocument(app);
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

main().catch((error: Error) => {
  console.error(`openapi-document: ${error.message}`);
  process.exit(1);
});
