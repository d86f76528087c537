import express from 'express';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { WEB_UI_CSP, webUiMiddleware } from './web-ui';

describe('web UI serving', () => {
  let built: string;
  let missing: string;

  beforeAll(async () => {
    built = await mkdtemp(path.join(tmpdir(), 'web-ui-'));
    missing = path.join(built, 'not-built');
    await mkdir(path.join(built, 'assets'));
    await writeFile(path.join(built, 'index.html'), '<!doctype html><script type="module" src="/assets/app-1234.js"></script>');
    await writeFile(path.join(built, 'assets', 'app-1234.js'), 'console.log(1)');
    await writeFile(path.join(built, 'secret.txt'), 'not under assets');
  });
  afterAll(() => rm(built, { recursive: true, force: true }));

  const appWith = (roots: string[]) => {
    const app = express();
    app.use(webUiMiddleware(roots));
    app.use((_request, response) => response.status(418).send('the API'));
    return app;
  };

  it('serves index.html at / and hashed assets with the CSP, nosniff and no-referrer', async () => {
    const app = appWith([missing, built]);
    const index = await request(app).get('/').expect(200);
    expect(index.headers['content-security-policy']).toBe(WEB_UI_CSP);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = await request(app).get('/assets/app-1234.js').expect(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['content-security-policy']).toBe(WEB_UI_CSP);
    await request(app).head('/').expect(200);
  });

  it('answers a missing asset or a path out of assets with 404 JSON, and leaves every other path and method to the API', async () => {
    const app = appWith([built]);
    expect((await request(app).get('/assets/nope.js').expect(404)).body.message).toContain('not a file of this build');
    expect((await request(app).get('/assets/%2e%2e/secret.txt').expect(404)).body.statusCode).toBe(404);
    await request(app).get('/secret.txt').expect(418);
    await request(app).post('/').expect(418);
    await request(app).get('/jobs').expect(418);
  });

  it('says to run the build when there is none', async () => {
    const response = await request(appWith([missing])).get('/').expect(503);
    expect(response.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    expect(response.body.message).toContain('npm run build');
  });
});
