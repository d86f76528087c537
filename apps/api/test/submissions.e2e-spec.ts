import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { buildArchive, tarGzBomb, zipBomb } from './archives';
import { listTree } from './disk';
import { auth, RunningApi, startApi, TOKENS } from './harness';
import { multipart, RawUpload } from './multipart';

const MAIN = Buffer.from('print("hello")\n');
const CONFIG = Buffer.from('epochs: 1\n');
const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('POST /submissions (real app, real Redis, real disk)', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ MAX_FILE_MB: '4', MAX_SUBMISSION_MB: '6', MAX_CONCURRENT_UNPACKS: '1' });
  });
  afterAll(async () => {
    await api.close();
  });

  let before: string[] = [];
  beforeEach(() => {
    before = listTree(api.config.uploadRoot);
  });

  const upload = () => request(api.server).post('/submissions').set(auth('alice'));
  /** After a rejection the upload root (incoming folder included) is exactly as it was. */
  const expectNothingLeft = () => expect(listTree(api.config.uploadRoot)).toEqual(before);

  it('stores uploaded files and returns the submission', async () => {
    const response = await upload()
      .attach('files', MAIN, 'main.py')
      .attach('files', CONFIG, 'config.yaml')
      .field('metadata', '{"model": "knn"}')
      .expect(201);
    expect(response.body).toMatchObject({
      submission_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      user_id: 'alice',
      entrypoint: 'main.py',
      config_file: 'config.yaml',
      files: ['config.yaml', 'main.py'],
      metadata: { model: 'knn' },
      created_at: expect.any(String),
    });
    const folder = path.join(api.config.uploadRoot, response.body.submission_id);
    expect(readFileSync(path.join(folder, 'files', 'main.py'), 'utf8')).toBe('print("hello")\n');
    expect(JSON.parse(readFileSync(path.join(folder, 'metadata.json'), 'utf8'))).toMatchObject({ user_id: 'alice' });
    expect(listTree(path.join(api.config.uploadRoot, '.incoming'))).toEqual([]);
  });

  it('stores several large files byte for byte, each streamed to disk in pieces', async () => {
    const contents = [randomBytes(3.5 * MiB), randomBytes(1 * MiB + 7), randomBytes(1)];
    const response = await upload()
      .attach('files', MAIN, 'main.py')
      .attach('files', contents[0], 'a.txt')
      .attach('files', contents[1], 'b.txt')
      .attach('files', contents[2], 'c.txt')
      .expect(201);
    const files = path.join(api.config.uploadRoot, response.body.submission_id, 'files');
    ['a.txt', 'b.txt', 'c.txt'].forEach((name, index) => expect(readFileSync(path.join(files, name)).equals(contents[index])).toBe(true));
    expect(listTree(path.join(api.config.uploadRoot, '.incoming'))).toEqual([]);
  });

  it('unpacks a zip and a tar.gz with folders, and runs an entrypoint inside a folder', async () => {
    const zip = buildArchive('zip', [{ name: 'src/train.py', content: 'print(1)' }, { name: 'src/util/helpers.py', content: '' }]);
    const tar = buildArchive('tar.gz', [{ name: 'data/labels.txt', content: 'a\nb\n' }]);
    const response = await upload()
      .attach('files', zip, 'code.zip')
      .attach('files', tar, 'data.tar.gz')
      .field('entrypoint', 'src/train.py')
      .expect(201);
    expect(response.body.files).toEqual(['data/labels.txt', 'src/train.py', 'src/util/helpers.py']);
    expect(response.body.config_file).toBeNull();
  });

  it.each(['../../../etc/passwd', '/etc/passwd', 'a/../../b.py'])('rejects entrypoint %j with 400 and keeps nothing', async (entrypoint) => {
    const response = await upload().attach('files', MAIN, 'main.py').field('entrypoint', entrypoint).expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining(`entrypoint "${entrypoint}"`) });
    expectNothingLeft();
  });

  it.each(['../../../etc/passwd', '/etc/passwd', 'a/../../b.yaml'])('rejects config_file %j with 400', async (configFile) => {
    const response = await upload().attach('files', MAIN, 'main.py').field('config_file', configFile).expect(400);
    expect(response.body.message).toContain(`config_file "${configFile}"`);
    expectNothingLeft();
  });

  it('rejects a zip-slip archive and writes nothing outside or inside', async () => {
    const zip = buildArchive('zip', [{ name: 'main.py', content: '' }, { name: '../../evil.py', content: 'pwned' }]);
    const response = await upload().attach('files', zip, 'code.zip').expect(400);
    expect(response.body.message).toMatch(/code\.zip.*\.\.\/\.\.\/evil\.py/);
    expectNothingLeft();
    expect(existsSync(path.join(api.config.uploadRoot, '..', 'evil.py'))).toBe(false);
    expect(existsSync(path.join(api.config.sharedDir, '..', 'evil.py'))).toBe(false);
  });

  it('rejects a tar.gz holding a symlink', async () => {
    const tar = buildArchive('tar.gz', [{ name: 'main.py', content: '' }, { name: 'shadow', symlinkTo: '/etc/shadow' }]);
    const response = await upload().attach('files', tar, 'code.tar.gz').expect(400);
    expect(response.body.message).toMatch(/link/i);
    expectNothingLeft();
  });

  it('rejects a tar.gz holding a hard link', async () => {
    const tar = buildArchive('tar.gz', [{ name: 'main.py', content: '' }, { name: 'passwd', hardlinkTo: '/etc/passwd' }]);
    await upload().attach('files', tar, 'code.tar.gz').expect(400);
    expectNothingLeft();
  });

  it('rejects a file over MAX_FILE_MB with 413 and keeps nothing', async () => {
    const big = Buffer.alloc(5 * MiB, 'x');
    const response = await upload().attach('files', MAIN, 'main.py').attach('files', big, 'weights.txt').expect(413);
    expect(response.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large', message: expect.stringContaining('4 MB') });
    expectNothingLeft();
  });

  it('rejects a wrong extension, a missing entrypoint and malformed metadata, listing each', async () => {
    const wrong = await upload().attach('files', MAIN, 'main.py').attach('files', MAIN, 'run.sh').expect(400);
    expect(wrong.body.message).toContain('"run.sh" has an extension that is not allowed');
    const missing = await upload().attach('files', MAIN, 'train.py').expect(400);
    expect(missing.body.message).toContain('entrypoint "main.py" is not among the uploaded files (train.py)');
    const metadata = await upload().attach('files', MAIN, 'main.py').field('metadata', '{"model": ').expect(400);
    expect(metadata.body.message).toContain('metadata is not valid JSON');
    const all = await upload().attach('files', MAIN, 'x.exe').field('entrypoint', '/abs.py').field('metadata', '[]').expect(400);
    expect(all.body.details).toHaveLength(3);
    expectNothingLeft();
  });

  it('rejects a request with no files and an unknown field', async () => {
    const none = await upload().field('entrypoint', 'main.py').expect(400);
    expect(none.body.message).toContain('upload at least one file');
    const unknown = await upload().attach('files', MAIN, 'main.py').field('entry_point', 'main.py').expect(400);
    expect(unknown.body.message).toContain('"entry_point" is not a known field');
    expectNothingLeft();
  });

  it.each([
    ['entrypoint sent twice', (form: request.Test) => form.field('entrypoint', 'main.py').field('entrypoint', 'other.py'), 'entrypoint was sent 2 times; send it once'],
    ['metadata sent twice', (form: request.Test) => form.field('metadata', '{"a": 1}').field('metadata', '{"b": 2}'), 'metadata was sent 2 times'],
    ['config_file in brackets', (form: request.Test) => form.field('config_file[x]', 'config.yaml'), 'config_file must be a plain form field'],
    ['metadata in brackets', (form: request.Test) => form.field('metadata[model]', 'pca'), 'metadata must be a plain form field'],
  ])('refuses an ambiguous form (%s) instead of picking one value', async (_name, build, message) => {
    const response = await build(upload().attach('files', MAIN, 'main.py')).expect(400);
    expect(response.body.message).toContain(message);
    expectNothingLeft();
  });

  it('needs a known bearer token', async () => {
    const missing = await request(api.server).post('/submissions').attach('files', MAIN, 'main.py').expect(401);
    expect(missing.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.stringContaining('Authorization') });
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    await request(api.server).post('/submissions').set('Authorization', 'Bearer not-a-token').attach('files', MAIN, 'main.py').expect(401);
    await request(api.server).post('/submissions').set('Authorization', 'Basic abc').expect(401);
    expectNothingLeft();
  });

  describe('archive bombs (MAX_SUBMISSION_MB=6)', () => {
    /** Runs `action` while watching the upload root: the most bytes it ever held at once. */
    async function peakDiskDuring<T>(action: () => Promise<T>): Promise<{ result: T; peakBytes: number }> {
      let peakBytes = 0;
      const before = diskBytes();
      const timer = setInterval(() => (peakBytes = Math.max(peakBytes, diskBytes() - before)), 5);
      try {
        return { result: await action(), peakBytes };
      } finally {
        clearInterval(timer);
      }
    }

    /** Bytes of every file under the upload root; a folder removed mid-walk counts as empty. */
    function diskBytes(): number {
      try {
        return readdirSync(api.config.uploadRoot, { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile())
          .reduce((total, entry) => total + statSafe(path.join(entry.parentPath, entry.name)), 0);
      } catch {
        return 0;
      }
    }

    it.each([
      ['a .tar.gz with one 2 GiB entry', 'bomb.tar.gz', () => tarGzBomb([{ name: 'zeros.bin', size: 2 * GiB }])],
      ['a .tar.gz with 2048 entries of 1 MiB', 'bomb.tar.gz', () => tarGzBomb(Array.from({ length: 2048 }, (_, index) => ({ name: `z${index}.bin`, size: MiB })))],
      ['a .zip with one 2 GiB entry', 'bomb.zip', () => zipBomb('zeros.bin', 2 * GiB)],
    ])('refuses %s with 413 naming the limit, writes none of it, and keeps nothing', async (_, name, build) => {
      const bomb = build();
      expect(bomb.length).toBeLessThan(3 * MiB);
      const { result: response, peakBytes } = await peakDiskDuring(() => upload().attach('files', MAIN, 'main.py').attach('files', bomb, name));
      expect(response.status).toBe(413);
      expect(response.body.message).toContain(`archive "${name}" declares at least`);
      expect(response.body.message).toContain('over the 6 MB limit per submission');
      // Only the upload itself reached the disk, never unpacked content.
      expect(peakBytes).toBeLessThanOrEqual(bomb.length + MAIN.length);
      expectNothingLeft();
    });

    it('refuses a zip whose content inflates past the size it declares (a lying header), keeping nothing', async () => {
      const liar = zipBomb('zeros.bin', 3 * MiB);
      // Claim 1000 bytes in the local header and the central directory; the data still holds 3 MiB.
      liar.writeUInt32LE(1000, 22);
      liar.writeUInt32LE(1000, liar.length - 22 - 46 - 'zeros.bin'.length + 24);
      const response = await upload().attach('files', MAIN, 'main.py').attach('files', liar, 'liar.zip').expect(400);
      expect(response.body.message).toMatch(/archive "liar.zip" is damaged or not a zip file \(.*bytes/);
      expectNothingLeft();
    });

    it('unpacks one submission at a time with MAX_CONCURRENT_UNPACKS=1: a second gets 429 with Retry-After, then succeeds', async () => {
      // Small entries take a while to write, so the first unpack is still running when the second arrives.
      const slow = tarGzBomb([{ name: 'main.py', size: 0 }, ...Array.from({ length: 800 }, (_, index) => ({ name: `d/f${index}.txt`, size: 512 }))]);
      const form = multipart([{ name: 'files', filename: 'code.tar.gz', content: slow }]);
      const first = new RawUpload(api.url, TOKENS.alice, form);
      const second = new RawUpload(api.url, TOKENS.bob, form);
      const firstReply = first.finish(form.body);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refused = await second.finish(form.body);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json?.message).toBe(
        'too many archives unpacking at once: the server unpacks at most 1 uploads with archives at a time (MAX_CONCURRENT_UNPACKS); try again in a few seconds',
      );
      expect((await firstReply).status).toBe(201);
      // The slot is free again once the first is done.
      await upload().attach('files', tarGzBomb([{ name: 'main.py', size: 10 }]), 'code.tar.gz').expect(201);
    });
  });

  describe('one total size per submission (MAX_SUBMISSION_MB=6)', () => {
    const part = (index: number) => ({ name: 'files', filename: `data${index}.txt`, content: Buffer.alloc(2 * MiB, 'x') });

    it('refuses plain files that add up past the limit, each under MAX_FILE_MB, with 413 and keeps nothing', async () => {
      const response = await upload()
        .attach('files', MAIN, 'main.py')
        .attach('files', Buffer.alloc(2.2 * MiB, 'a'), 'a.txt')
        .attach('files', Buffer.alloc(2.2 * MiB, 'b'), 'b.txt')
        .attach('files', Buffer.alloc(2.2 * MiB, 'c'), 'c.txt')
        .expect(413);
      expect(response.body.message).toBe('the uploaded files add up to more than the 6 MB limit per submission (MAX_SUBMISSION_MB)');
      expectNothingLeft();
    });

    it('answers a chunked upload (no Content-Length) as soon as it passes the limit, without waiting for the rest', async () => {
      const form = multipart([{ name: 'files', filename: 'main.py', content: MAIN }, ...[0, 1, 2, 3].map(part)]);
      const upload = new RawUpload(api.url, TOKENS.alice, form, { chunked: true });
      // 7 MiB of the 8: the body never ends, yet the answer comes.
      upload.send(form.body.subarray(0, 7 * MiB));
      const reply = await upload.reply;
      expect(reply.status).toBe(413);
      expect(reply.json?.message).toContain('6 MB limit per submission');
      expect(reply.headers.connection).toBe('close');
      expectNothingLeft();
    });

    it('refuses a Content-Length over the limit before reading the body', async () => {
      const form = multipart([{ name: 'files', filename: 'main.py', content: MAIN }]);
      const raw = new RawUpload(api.url, TOKENS.alice, form, { contentLength: 10 * GiB });
      const reply = await raw.reply;
      expect(reply.status).toBe(413);
      expect(reply.json?.message).toMatch(/the upload is 10240 MB, over the 6 MB limit per submission/);
      expectNothingLeft();
    });

    it('counts unpacked archives and plain files together', async () => {
      const archive = tarGzBomb([{ name: 'more.bin', size: 3 * MiB }]);
      const response = await upload().attach('files', MAIN, 'main.py').attach('files', Buffer.alloc(3.5 * MiB), 'data.txt').attach('files', archive, 'more.tar.gz').expect(413);
      expect(response.body.message).toContain('archive "more.tar.gz" declares at least 3 MB of content: over the 6 MB limit per submission');
      expectNothingLeft();
    });
  });

  describe('file names: UTF-8 as sent, lengths in bytes, no two names alike', () => {
    it('keeps a UTF-8 file name as sent and runs it as the entrypoint', async () => {
      const response = await upload().attach('files', MAIN, '模型.py').field('entrypoint', '模型.py').expect(201);
      expect(response.body).toMatchObject({ entrypoint: '模型.py', files: ['模型.py'] });
      expect(readFileSync(path.join(api.config.uploadRoot, response.body.submission_id, 'files', '模型.py'), 'utf8')).toBe('print("hello")\n');
    });

    it("reads an RFC 5987 filename*=UTF-8''… parameter", async () => {
      const form = multipart([
        { name: 'files', content: MAIN, filenameHeader: Buffer.from(`filename*=UTF-8''${encodeURIComponent('données.py')}`) },
        { name: 'entrypoint', content: 'données.py' },
      ]);
      const reply = await new RawUpload(api.url, TOKENS.alice, form).finish(form.body);
      expect(reply.status).toBe(201);
      expect(reply.json).toMatchObject({ entrypoint: 'données.py', files: ['données.py'] });
    });

    const long = `${'模'.repeat(85)}.py`; // 258 bytes, 88 characters
    it.each([
      ['a file name over 255 bytes', () => upload().attach('files', MAIN, long), `files: "${long}" has a name of 258 bytes`],
      ['an entrypoint over 255 bytes', () => upload().attach('files', MAIN, 'main.py').field('entrypoint', long), `entrypoint "${long}" has a name of 258 bytes`],
      ['a config_file path over 1024 bytes', () => upload().attach('files', MAIN, 'main.py').field('config_file', `${'abcdefgh/'.repeat(120)}c.yaml`), 'config_file "abcdefgh/'],
      ['two file names that differ only in case', () => upload().attach('files', MAIN, 'main.py').attach('files', MAIN, 'Main.py'), '"Main.py" was uploaded twice'],
    ])('refuses %s with 400 naming it, and keeps nothing', async (_, send, message) => {
      const response = await send().expect(400);
      expect(response.body.message).toContain(message);
      expectNothingLeft();
    });

    it.each([
      ['%01', 'files: "ma\\u0001in.py" contains a control character'],
      ['%00', 'files: "ma\\u0000in.py" contains a NUL byte'],
    ])("refuses %s sent in filename*=UTF-8''…", async (escape, message) => {
      const form = multipart([{ name: 'files', content: MAIN, filenameHeader: Buffer.from(`filename*=UTF-8''ma${escape}in.py`) }]);
      const reply = await new RawUpload(api.url, TOKENS.alice, form).finish(form.body);
      expect(reply.status).toBe(400);
      expect(reply.json?.message).toBe(message);
      expectNothingLeft();
    });

    it('refuses a file name that is not valid UTF-8', async () => {
      const form = multipart([{ name: 'files', content: MAIN, filenameHeader: Buffer.concat([Buffer.from('filename="caf'), Buffer.from([0xe9]), Buffer.from('.py"')]) }]);
      const reply = await new RawUpload(api.url, TOKENS.alice, form).finish(form.body);
      expect(reply.status).toBe(400);
      expect(reply.json?.message).toContain('is not valid UTF-8');
      expectNothingLeft();
    });

    it.each([
      ['a segment over 255 bytes', 'zip', [{ name: `src/${'é'.repeat(130)}.py` }], /entry "src\/é+\.py" has a name of 263 bytes/],
      ['a segment over 255 bytes', 'tar.gz', [{ name: `src/${'é'.repeat(130)}.py` }], /entry "src\/é+\.py" has a name of 263 bytes/],
      ['a path over 1024 bytes', 'tar.gz', [{ name: `${'abcdefgh/'.repeat(120)}x.py` }], /is 1084 bytes long; paths may be at most 1024 bytes/],
      ['a backslash', 'zip', [{ name: 'src\\..\\..\\x.py' }], /contains a backslash/],
      ['names that differ only in case', 'zip', [{ name: 'Model.py' }, { name: 'model.py' }], /entry "model.py" clashes with "Model.py"/],
      ['names that differ only in Unicode form', 'tar.gz', [{ name: 'caf\u00e9.py' }, { name: 'cafe\u0301.py' }], /clashes with "café.py"/],
      ['a file and a folder of one name', 'tar.gz', [{ name: 'src' }, { name: 'src/a.py' }], /"src" is both a file and a folder/],
      ['an entry that clashes with an uploaded file by case', 'zip', [{ name: 'MAIN.py' }], /entry "MAIN.py" clashes with "main.py"/],
    ] as const)('refuses an archive entry with %s (%s)', async (_, kind, entries, message) => {
      const archive = buildArchive(kind, entries.map((entry) => ({ ...entry, content: '' })));
      const response = await upload().attach('files', MAIN, 'main.py').attach('files', archive, `code.${kind}`).expect(400);
      expect(response.body.message).toMatch(message);
      expect(response.body.message).toContain(`archive "code.${kind}"`);
      expectNothingLeft();
    });
  });
});

function statSafe(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
