/**
 * Prints the API's OpenAPI document (what /docs-json serves) as stable JSON, built from the Nest
 * app itself without listening. Settings are fixed here, so the document is the same on every
 * machine: it describes the defaults. Used by scripts/gen-api.sh.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '@app/adapters';
import { createApiApp } from '../apps/api/src/app.factory';
import { buildOpenApiDocument } from '../apps/api/src/docs/swagger';

async function main(): Promise<void> {
  const shared = await mkdtemp(path.join(tmpdir(), 'lb-openapi-'));
  try {
    const config = loadConfig(
      {
        API_TOKENS: 'openapi:document-only-token',
        SHARED_DIR: shared,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
        REDIS_PREFIX: `openapi-${process.pid}`,
        BENCHMARKS_DIR: path.resolve(__dirname, '..', 'benchmarks'),
      },
      { requireTokens: true },
    );
    const app = await createApiApp(config, { logger: false });
    await app.init();
    const document = buildOpenApiDocument(app);
    await app.close();
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } finally {
    await rm(shared, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`openapi-document: ${error.message}`);
  process.exit(1);
});
