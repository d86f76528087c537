import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { apiMessage, createApiClient } from '.';

describe('createApiClient', () => {
  let server: Server;
  let seen: IncomingMessage[];
  let baseUrl: string;

  beforeAll(async () => {
    seen = [];
    server = createServer((request, response) => {
      seen.push(request);
      response.setHeader('Content-Type', 'application/json');
      if (request.url === '/jobs/nope/status') {
        response.statusCode = 404;
        response.end(JSON.stringify({ statusCode: 404, error: 'Not Found', message: 'job nope does not exist' }));
        return;
      }
      response.end(JSON.stringify({ benchmarks: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('sends the bearer token and reads typed bodies', async () => {
    const client = createApiClient(baseUrl, { token: 's3cr3t' });
    const { data } = await client.GET('/benchmarks');
    expect(data?.benchmarks).toEqual([]);
    expect(seen.at(-1)?.headers.authorization).toBe('Bearer s3cr3t');
  });

  it('hands back the API error body, whose message apiMessage reads', async () => {
    const client = createApiClient(baseUrl);
    const { data, error, response } = await client.GET('/jobs/{id}/status', { params: { path: { id: 'nope' } } });
    expect(data).toBeUndefined();
    expect(response.status).toBe(404);
    expect(apiMessage(error)).toBe('job nope does not exist');
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
  });
});

describe('apiMessage', () => {
  it.each([
    [{ message: 'limit must be a whole number', details: ['limit must be a whole number'] }, 'limit must be a whole number'],
    [{ message: 'invalid input', details: ['config: too deep', 'entrypoint: missing'] }, 'invalid input (config: too deep; entrypoint: missing)'],
    ['plain text error', 'plain text error'],
    [undefined, 'the API answered with an error'],
    [{ statusCode: 500 }, 'the API answered with an error'],
  ])('reads %j', (body, message) => {
    expect(apiMessage(body)).toBe(message);
  });
});
