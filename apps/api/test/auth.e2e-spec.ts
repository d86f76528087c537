import { auth, RunningApi, startApi, TOKENS } from './harness';
import { Reply, send, sendRaw } from './http-client';

const LIMIT = 4;
const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

function expectThrottled(reply: Reply, client: string): void {
  expect(reply.status).toBe(429);
  expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(Number(reply.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect(reply.json).toMatchObject({ statusCode: 429, message: expect.stringContaining(`too many failed logins from ${client}`) });
}

describe('failed logins are limited per client address', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ AUTH_FAILURES_PER_WINDOW: String(LIMIT), AUTH_FAILURE_WINDOW_S: '60' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('refuses an address after N wrong bearer tokens, while the real user from another address gets in', async () => {
    for (let attempt = 0; attempt < LIMIT; attempt += 1) {
      const wrong = await send(api.url, { path: '/jobs', headers: bearer(`guess-${attempt}-xyz`) });
      expect(wrong.status).toBe(401);
    }
    expectThrottled(await send(api.url, { path: '/jobs', headers: bearer('guess-last-xyz') }), '127.0.0.1');
    // The right token from the throttled address is refused too: a 200 would confirm a guess.
    expectThrottled(await send(api.url, { path: '/jobs', headers: auth('alice') }), '127.0.0.1');
    // Bull Board shares the count.
    expectThrottled(await send(api.url, { path: '/admin/queues', headers: { Authorization: basic('admin', TOKENS.admin) } }), '127.0.0.1');

    expect((await send(api.url, { path: '/jobs', headers: auth('alice'), from: '127.0.0.2' })).status).toBe(200);
    // A success elsewhere resets nothing, and an X-Forwarded-For of the client's choosing is ignored.
    const spoofed = await send(api.url, { path: '/jobs', headers: { ...auth('alice'), 'X-Forwarded-For': '10.9.8.7' } });
    expectThrottled(spoofed, '127.0.0.1');
  });

  it('limits Basic logins on Bull Board the same way, and an unknown user looks like a wrong token', async () => {
    const attacker = '127.0.0.3';
    const unknownUser = await send(api.url, { path: '/admin/queues', headers: { Authorization: basic('nobody', 'guess-000') }, from: attacker });
    const wrongToken = await send(api.url, { path: '/admin/queues', headers: { Authorization: basic('admin', 'guess-000') }, from: attacker });
    const otherUsersToken = await send(api.url, { path: '/admin/queues', headers: { Authorization: basic('alice', TOKENS.admin) }, from: attacker });
    for (const reply of [unknownUser, wrongToken, otherUsersToken]) {
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toContain('Basic');
      expect(reply.text).toBe(wrongToken.text);
    }
    expect((await send(api.url, { path: '/admin/queues', headers: { Authorization: basic('admin', 'guess-001') }, from: attacker })).status).toBe(401);
    expectThrottled(await send(api.url, { path: '/admin/queues', headers: { Authorization: basic('admin', 'guess-002') }, from: attacker }), attacker);
    expectThrottled(await send(api.url, { path: '/admin/queues', headers: { Authorization: basic('admin', TOKENS.admin) }, from: attacker }), attacker);
    const admin = await send(api.url, { path: '/admin/queues', headers: { Authorization: basic('admin', TOKENS.admin) }, from: '127.0.0.4' });
    expect(admin.status).toBe(200);
  });

  it('answers no more than N guesses of a parallel burst', async () => {
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, attempt) => send(api.url, { path: '/jobs', headers: bearer(`burst-${attempt}-xyz`), from: '127.0.0.5' })),
    );
    expect(replies.filter((reply) => reply.status === 401)).toHaveLength(LIMIT);
    expect(replies.filter((reply) => reply.status === 429)).toHaveLength(40 - LIMIT);
  });

  it('does not count requests that carry no credentials or malformed ones', async () => {
    const client = '127.0.0.6';
    for (let attempt = 0; attempt < LIMIT + 2; attempt += 1) {
      expect((await send(api.url, { path: '/jobs', from: client })).status).toBe(401);
      expect((await send(api.url, { path: '/jobs', headers: { Authorization: 'Bearer  two-spaces' }, from: client })).status).toBe(400);
    }
    expect((await send(api.url, { path: '/jobs', headers: auth('bob'), from: client })).status).toBe(200);
  });
});

describe('behind a trusted proxy (TRUST_PROXY=true)', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ AUTH_FAILURES_PER_WINDOW: '2', AUTH_FAILURE_WINDOW_S: '60', TRUST_PROXY: 'true' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('counts against the hop the proxy appended, which the client cannot rotate', async () => {
    for (const forged of ['1.1.1.1', '2.2.2.2']) {
      const reply = await send(api.url, { path: '/jobs', headers: { ...bearer('guess-abc-123'), 'X-Forwarded-For': `${forged}, 203.0.113.7` } });
      expect(reply.status).toBe(401);
    }
    const rotated = await send(api.url, { path: '/jobs', headers: { ...auth('alice'), 'X-Forwarded-For': '3.3.3.3, 203.0.113.7' } });
    expectThrottled(rotated, '203.0.113.7');
    // Same proxy socket, another client behind it: unaffected.
    expect((await send(api.url, { path: '/jobs', headers: { ...auth('alice'), 'X-Forwarded-For': '203.0.113.8' } })).status).toBe(200);
  });
});

describe('ambiguous or malformed credentials are refused, never guessed at', () => {
  let api: RunningApi;
  const get = (path: string, ...headers: string[]) => [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers];
  const alice = `Bearer ${TOKENS.alice}`;

  beforeAll(async () => {
    api = await startApi({ AUTH_FAILURES_PER_WINDOW: String(LIMIT), AUTH_FAILURE_WINDOW_S: '60' });
  });
  afterAll(async () => {
    await api.close();
  });

  it.each([
    ['two Authorization headers, right one first', [`Authorization: ${alice}`, 'Authorization: Bearer wrong-token-1']],
    ['two Authorization headers, right one second', ['Authorization: Bearer wrong-token-1', `Authorization: ${alice}`]],
    ['the same twice, in other case spellings', [`AUTHORIZATION: ${alice}`, `aUtHoRiZaTiOn: ${alice}`]],
    ['Bearer and Basic in two headers', [`Authorization: ${alice}`, `Authorization: ${basic('admin', TOKENS.admin)}`]],
  ])('%s: 400 on a REST route and on Bull Board', async (_name, headers) => {
    for (const path of ['/jobs', '/admin/queues']) {
      const reply = await sendRaw(api.url, get(path, ...headers));
      expect(reply.status).toBe(400);
      expect(reply.json).toMatchObject({ statusCode: 400, message: expect.stringContaining('send one Authorization header, not 2') });
    }
  });

  it.each([
    ['a comma-joined second credential', `${alice}, Bearer wrong-token-1`, 'more than one credential'],
    ['a comma inside the credential', `${alice},wrong-token-1`, 'more than one credential'],
    ['Bearer and Basic in one value', `${alice} ${basic('admin', TOKENS.admin)}`, 'more than one credential'],
    ['an empty value', '', 'is empty'],
    ['no scheme', TOKENS.alice, 'no scheme or no credentials'],
    ['a scheme and nothing else', 'Bearer', 'no scheme or no credentials'],
    ['an unknown scheme', `Token ${TOKENS.alice}`, 'must be Bearer or Basic'],
    ['two spaces after the scheme', `Bearer  ${TOKENS.alice}`, 'no other whitespace'],
    ['a tab after the scheme', `Bearer\t${TOKENS.alice}`, 'no other whitespace'],
    ['a non-ASCII byte in the token', `${alice}\xe9`, 'visible ASCII'],
  ])('%s: 400 with a message', async (_name, value, message) => {
    const reply = await sendRaw(api.url, get('/jobs', `Authorization: ${value}`));
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ statusCode: 400, message: expect.stringContaining(message) });
  });

  it('refuses control characters in the token (Node\'s parser or ours), never lets them through', async () => {
    for (const control of ['\x01', '\x7f', '\x00']) {
      const reply = await sendRaw(api.url, get('/jobs', `Authorization: Bearer ${TOKENS.alice}${control}`));
      expect(reply.status).toBe(400);
    }
  });

  it('refuses header spellings that could hide a second credential: space before the colon, a folded line', async () => {
    for (const head of [
      get('/jobs', `Authorization : ${alice}`),
      get('/jobs', 'Authorization: Bearer wrong-token-1', ` ${TOKENS.alice}`),
      get('/jobs', `Authorization: ${alice}`, `Authorization\t: ${alice}`),
    ]) {
      expect((await sendRaw(api.url, head)).status).toBe(400);
    }
  });

  it('refuses malformed Basic logins on Bull Board with 400', async () => {
    for (const value of ['Basic abc', 'Basic !!!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, basic('admin\x01', TOKENS.admin)]) {
      const reply = await sendRaw(api.url, get('/admin/queues', `Authorization: ${value}`));
      expect(reply.status).toBe(400);
      expect(reply.json).toMatchObject({ message: expect.stringContaining('base64 of "user:token"') });
    }
  });

  it('answers 431 to an over-long Authorization header', async () => {
    const long = await sendRaw(api.url, get('/jobs', `Authorization: Bearer ${'a'.repeat(5000)}`));
    expect(long.status).toBe(431);
    expect(long.json).toMatchObject({ statusCode: 431, message: expect.stringContaining('longer than 4096 bytes') });
    // Past Node's own header limit the parser refuses it, with the API's error body all the same.
    const huge = await sendRaw(api.url, get('/jobs', `Authorization: Bearer ${'a'.repeat(20000)}`));
    expect(huge.status).toBe(431);
    expect(huge.json).toMatchObject({ statusCode: 431, message: expect.stringContaining('larger than 16 KiB') });
  });

  it('answers what is not HTTP at all with a 400 in the API\'s error shape', async () => {
    for (const head of [['GET /jobs HTTP/1.1', 'Host: 127.0.0.1', 'Bad Header Name: x'], ['NOT-A-METHOD\x01 / HTTP/1.1', 'Host: 127.0.0.1'], ['GET /jobs HTTP/9.9', 'Host: 127.0.0.1']]) {
      const reply = await sendRaw(api.url, head);
      expect({ head, status: reply.status }).toEqual({ head, status: 400 });
      expect(reply.json).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining('not valid HTTP/1.1') });
    }
  });

  it('refuses two Idempotency-Key headers on POST /jobs', async () => {
    const body = JSON.stringify({ submission_id: 'whatever' });
    for (const second of ['Idempotency-Key: key-2', 'idempotency-KEY: key-1']) {
      const reply = await sendRaw(
        api.url,
        ['POST /jobs HTTP/1.1', 'Host: 127.0.0.1', `Authorization: ${alice}`, 'Content-Type: application/json', 'Idempotency-Key: key-1', second],
        { body },
      );
      expect(reply.status).toBe(400);
      expect(reply.json).toMatchObject({ message: expect.stringContaining('send one Idempotency-Key header, not 2') });
    }
  });

  it('still serves a well-formed request, in any scheme case', async () => {
    expect((await sendRaw(api.url, get('/jobs', `Authorization: bearer ${TOKENS.alice}`))).status).toBe(200);
    expect((await sendRaw(api.url, get('/admin/queues', `authorization: BASIC ${basic('admin', TOKENS.admin).slice(6)}`))).status).toBe(200);
  });
});
