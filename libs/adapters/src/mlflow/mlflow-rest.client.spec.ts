import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Unavailable } from '@app/domain';
import { MlflowApiError, MlflowRestClient } from './mlflow-rest.client';

/** A stand-in server on 127.0.0.1 that answers each request with the next scripted reply. */
async function scriptedServer(replies: ((response: ServerResponse) => void)[]): Promise<{ uri: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((_request: IncomingMessage, response: ServerResponse) => {
    const reply = replies[Math.min(hits, replies.length - 1)];
    hits += 1;
    reply(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { uri: `http://127.0.0.1:${port}`, server, hits: () => hits };
}

const json = (status: number, body: object) => (response: ServerResponse) => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

describe('MlflowRestClient', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it('retries 5xx and 429 answers and returns the first success', async () => {
    const scripted = await scriptedServer([json(503, { message: 'busy' }), json(429, { message: 'slow down' }), json(200, { ok: true })]);
    server = scripted.server;
    const client = new MlflowRestClient({ trackingUri: scripted.uri, retries: 3, retryDelayMs: 5 });
    await expect(client.get('runs/get', { run_id: 'r' })).resolves.toEqual({ ok: true });
    expect(scripted.hits()).toBe(3);
  });

  it('raises Unavailable with the last cause when the server keeps failing', async () => {
    const scripted = await scriptedServer([json(500, { error_code: 'INTERNAL_ERROR', message: 'database is locked' })]);
    server = scripted.server;
    const client = new MlflowRestClient({ trackingUri: `${scripted.uri}/`, retries: 1, retryDelayMs: 5 });
    const error = await client.post('runs/create', {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Error).message).toBe(`MLflow tracking server at ${scripted.uri} is unreachable after 2 attempts: HTTP 500 database is locked`);
  });

  it('does not retry a refusal and keeps a plain-text message', async () => {
    const scripted = await scriptedServer([(response) => response.writeHead(403).end('Invalid Host header - possible DNS rebinding attack detected')]);
    server = scripted.server;
    const client = new MlflowRestClient({ trackingUri: scripted.uri, retryDelayMs: 5 });
    const error = await client.get('experiments/get-by-name', { experiment_name: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MlflowApiError);
    expect(error).not.toBeInstanceOf(Unavailable);
    expect((error as Error).message).toMatch(/HTTP 403.*Invalid Host header/);
    expect(scripted.hits()).toBe(1);
  });

  it('gives up on an attempt that outlives timeoutMs and retries it', async () => {
    const scripted = await scriptedServer([() => undefined, json(200, { late: false })]);
    server = scripted.server;
    const client = new MlflowRestClient({ trackingUri: scripted.uri, retries: 1, retryDelayMs: 5, timeoutMs: 100 });
    await expect(client.get('runs/get', { run_id: 'r' })).resolves.toEqual({ late: false });
  });
});
