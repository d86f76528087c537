import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { buildArchive } from './archives';
import { listTree } from './disk';
import { auth, RunningApi, startApi } from './harness';

const MAIN = Buffer.from('print("hello")\n');
const CONFIG = Buffer.from('epochs: 1\n');

describe('POST /submissions (real app, real Redis, real disk)', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ MAX_FILE_MB: '1' });
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
    const big = Buffer.alloc(2 * 2 ** 20, 'x');
    const response = await upload().attach('files', MAIN, 'main.py').attach('files', big, 'weights.txt').expect(413);
    expect(response.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large', message: expect.stringContaining('1 MB') });
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

  it('needs a known bearer token', async () => {
    const missing = await request(api.server).post('/submissions').attach('files', MAIN, 'main.py').expect(401);
    expect(missing.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.stringContaining('Authorization') });
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    await request(api.server).post('/submissions').set('Authorization', 'Bearer not-a-token').attach('files', MAIN, 'main.py').expect(401);
    await request(api.server).post('/submissions').set('Authorization', 'Basic abc').expect(401);
    expectNothingLeft();
  });
});
