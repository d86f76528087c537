import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { listTree } from './disk';
import { auth, RunningApi, startApi, TOKENS } from './harness';
import { multipart, RawUpload } from './multipart';

const MAIN = Buffer.from('print("hello")\n');
const IDLE_S = 2;

/** Slow and stalled uploads: each holds a socket and a temp file, so they are capped and cut. */
describe('POST /submissions: slow uploads (real app over raw sockets)', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({
      MAX_CONCURRENT_UPLOADS_PER_USER: '2',
      MAX_CONCURRENT_UPLOADS: '3',
      UPLOAD_IDLE_TIMEOUT_S: String(IDLE_S),
      HTTP_HEADERS_TIMEOUT_S: '7',
      HTTP_REQUEST_TIMEOUT_S: '90',
      HTTP_KEEPALIVE_TIMEOUT_S: '3',
    });
  });
  afterAll(async () => {
    await api.close();
  });

  const incoming = () => listTree(path.join(api.config.uploadRoot, '.incoming'));

  async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** An upload that sent its headers and the first 64 KiB of a file, then waits; `trickle` sends one more byte. */
  function stalledUpload(token: string, options: { keepOpen?: boolean } = {}) {
    const form = multipart([{ name: 'files', filename: 'main.py', content: Buffer.alloc(1024 * 1024, '#') }]);
    const upload = new RawUpload(api.url, token, form, options);
    let sent = 64 * 1024;
    upload.send(form.body.subarray(0, sent));
    return { upload, trickle: () => upload.send(form.body.subarray(sent, ++sent)) };
  }

  it('applies the configured HTTP server timeouts', () => {
    expect(api.server.headersTimeout).toBe(7000);
    expect(api.server.requestTimeout).toBe(90_000);
    expect(api.server.keepAliveTimeout).toBe(3000);
  });

  it('removes the temp file when the client drops the connection mid-upload, and frees its slot', async () => {
    const before = listTree(api.config.uploadRoot);
    const { upload } = stalledUpload(TOKENS.alice);
    await until(() => incoming().length === 1, 'the temp file');
    upload.destroy();
    await until(() => incoming().length === 0, 'the temp file to go');
    expect(listTree(api.config.uploadRoot)).toEqual(before);
    // Two uploads at once are alice's limit: both are admitted, so the dropped one gave its slot back.
    const two = [stalledUpload(TOKENS.alice), stalledUpload(TOKENS.alice)];
    await until(() => incoming().length === 2, 'two temp files');
    two.forEach(({ upload: each }) => each.destroy());
    await until(() => incoming().length === 0, 'the temp files to go');
  });

  it('holds no socket or file for uploads over the cap: 100 more stalled uploads from one user are refused and closed', async () => {
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    const admitted = [stalledUpload(TOKENS.alice), stalledUpload(TOKENS.alice)];
    await until(() => incoming().length === 2, 'two temp files');
    // They never send the rest and never hang up: only the server can let go of them.
    const refused = Array.from({ length: 100 }, () => stalledUpload(TOKENS.alice, { keepOpen: true }).upload);
    const replies = await Promise.all(refused.map((each) => each.reply));
    expect(new Set(replies.map((reply) => reply.status))).toEqual(new Set([429]));
    // The API runs in this process, so its descriptors are counted here with the clients': the 100
    // client sockets stay open, the admitted uploads hold two sockets and two temp files each side,
    // and the server's side of every refused upload is gone after its short linger.
    await until(() => openFds() <= before + 100 + 8, 'the server to close the refused uploads', 5000);
    refused.forEach((each) => each.destroy());
    admitted.forEach(({ upload }) => upload.destroy());
    await until(() => incoming().length === 0, 'the temp files to go');
  });

  it('caps uploads at once per user and in all (429 with Retry-After), leaves other users alone, and cuts stalled ones', async () => {
    const before = listTree(api.config.uploadRoot);
    let bobsSubmission = '';
    const stalled = [stalledUpload(TOKENS.alice), stalledUpload(TOKENS.alice)];
    // Both were admitted and are writing their temp files.
    await until(() => incoming().length === 2, 'two temp files');
    // Keep them alive (under the idle timeout) while the limits are checked.
    const keepAlive = setInterval(() => stalled.forEach((each) => each.trickle()), 400);
    try {
      const third = multipart([{ name: 'files', filename: 'main.py', content: MAIN }]);
      const refused = await new RawUpload(api.url, TOKENS.alice, third).finish(third.body);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json?.message).toBe('too many uploads at once: you have 2 in progress, the limit per user (MAX_CONCURRENT_UPLOADS_PER_USER); wait for one to finish');

      // Another user is not affected by alice's uploads...
      const bobs = await request(api.server).post('/submissions').set(auth('bob')).attach('files', MAIN, 'main.py').expect(201);
      bobsSubmission = bobs.body.submission_id;
      // ...until the server-wide cap is reached.
      stalled.push(stalledUpload(TOKENS.bob));
      await until(() => incoming().length === 3, 'three temp files');
      const overall = await request(api.server).post('/submissions').set(auth('admin')).attach('files', MAIN, 'main.py').expect(429);
      expect(overall.headers['retry-after']).toBeDefined();
      expect(overall.body.message).toContain('too many uploads at once: the server has 3 in progress, its limit (MAX_CONCURRENT_UPLOADS)');
    } finally {
      clearInterval(keepAlive);
    }

    // Once they stop sending, the server cuts each within about UPLOAD_IDLE_TIMEOUT_S and removes its temp file.
    const stoppedAt = Date.now();
    await Promise.all(stalled.map((each) => each.upload.closed));
    const cutAfter = Date.now() - stoppedAt;
    // The last trickled byte went out at most 400 ms before they stopped.
    expect(cutAfter).toBeGreaterThanOrEqual(IDLE_S * 1000 - 500);
    expect(cutAfter).toBeLessThan((IDLE_S + 3) * 1000);
    await until(() => incoming().length === 0, 'the temp files to go');
    // Nothing is left of the cut uploads: only bob's finished submission is new.
    expect(listTree(api.config.uploadRoot).filter((entry) => !entry.startsWith(bobsSubmission))).toEqual(before);

    // The slots are free again.
    await request(api.server).post('/submissions').set(auth('alice')).attach('files', MAIN, 'main.py').expect(201);
  });
});
