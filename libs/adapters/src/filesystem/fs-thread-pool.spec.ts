import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsThreadPool } from './fs-thread-pool';

describe('FsThreadPool', () => {
  let root: string;
  let pool: FsThreadPool;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fs-threads-'));
    pool = new FsThreadPool(2);
  });
  afterEach(async () => {
    await pool.close();
    await rm(root, { recursive: true, force: true });
  });

  async function uploads(...names: string[]): Promise<{ from: string; to: string }[]> {
    await mkdir(path.join(root, 'in'), { recursive: true });
    return Promise.all(
      names.map(async (name) => {
        await writeFile(path.join(root, 'in', name), `content of ${name}`);
        return { from: path.join(root, 'in', name), to: path.join(root, 'sub', 'files', name) };
      }),
    );
  }

  it('makes the folder and moves every upload into it', async () => {
    const moves = await uploads('a.py', 'b.py');
    expect(await pool.movePlainFiles(path.join(root, 'sub', 'files'), moves)).toEqual({ moved: 2 });
    expect((await readdir(path.join(root, 'sub', 'files'))).sort()).toEqual(['a.py', 'b.py']);
    expect(await readdir(path.join(root, 'in'))).toEqual([]);
  });

  it('refuses a folder that already exists, moving nothing', async () => {
    const moves = await uploads('a.py');
    await mkdir(path.join(root, 'sub', 'files'), { recursive: true });
    expect(await pool.movePlainFiles(path.join(root, 'sub', 'files'), moves)).toMatchObject({ conflict: true, moved: 0 });
    expect(existsSync(moves[0].from)).toBe(true);
  });

  it('stops at a target that exists and says which, never overwriting it', async () => {
    const [first, second] = await uploads('a.py', 'b.py');
    const twice = { from: second.from, to: first.to };
    expect(await pool.movePlainFiles(path.join(root, 'sub', 'files'), [first, twice])).toEqual({ duplicate: 1, moved: 1 });
    expect(await readFile(first.to, 'utf8')).toBe('content of a.py');
    expect(existsSync(second.from)).toBe(true);
  });

  it('reports a failed move with its index and the error code', async () => {
    const [first] = await uploads('a.py');
    const missing = { from: path.join(root, 'in', 'gone.py'), to: path.join(root, 'sub', 'files', 'gone.py') };
    const result = await pool.movePlainFiles(path.join(root, 'sub', 'files'), [first, missing]);
    expect(result).toMatchObject({ failed: 1, moved: 1 });
    expect(result.error).toBeInstanceOf(Error);
    expect(result.error?.code).toBe('ENOENT');
  });

  it('writes a file durably through a temporary one, and leaves no temporary on failure', async () => {
    const target = path.join(root, 'metadata.json');
    await pool.writeDurably(path.join(root, '.tmp-1'), target, '{"a":1}');
    expect(await readFile(target, 'utf8')).toBe('{"a":1}');
    await expect(pool.writeDurably(path.join(root, 'no-such-folder', '.tmp-2'), path.join(root, 'no-such-folder', 'm.json'), 'x')).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await writeFile(path.join(root, '.tmp-3'), 'someone else');
    await expect(pool.writeDurably(path.join(root, '.tmp-3'), target, 'new')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(target, 'utf8')).toBe('{"a":1}');
    expect(await readFile(path.join(root, '.tmp-3'), 'utf8')).toBe('someone else');
  });

  it('writes pieces at their offsets in any order, creating the file only once', async () => {
    const target = path.join(root, 'upload');
    await pool.writeAt(target, Buffer.from('abc'), 0, true);
    await Promise.all([pool.writeAt(target, Buffer.from('ghi'), 6, false), pool.writeAt(target, Buffer.from('def'), 3, false)]);
    expect(await readFile(target, 'utf8')).toBe('abcdefghi');
    await expect(pool.writeAt(target, Buffer.from('x'), 0, true)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(pool.writeAt(path.join(root, 'missing'), Buffer.from('x'), 0, false)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(target, 'utf8')).toBe('abcdefghi');
  });

  it('moves a buffer that owns its memory to the thread, and copies a slice of a shared one', async () => {
    const owned = Buffer.alloc(64 * 1024, 'a');
    await pool.writeAt(path.join(root, 'owned'), owned, 0, true);
    expect(owned.byteLength).toBe(0);
    const shared = Buffer.from('shared pool slice');
    await pool.writeAt(path.join(root, 'slice'), shared, 0, true);
    expect(shared.toString()).toBe('shared pool slice');
    expect((await readFile(path.join(root, 'owned'))).equals(Buffer.alloc(64 * 1024, 'a'))).toBe(true);
    expect(await readFile(path.join(root, 'slice'), 'utf8')).toBe('shared pool slice');
  });

  it('runs many tasks at once on its few threads, each answered once', async () => {
    const writes = Array.from({ length: 40 }, (_, index) => pool.writeDurably(path.join(root, `.t${index}`), path.join(root, `f${index}`), String(index)));
    await Promise.all(writes);
    const names = (await readdir(root)).filter((name) => name.startsWith('f'));
    expect(names).toHaveLength(40);
    expect(await readFile(path.join(root, 'f39'), 'utf8')).toBe('39');
  });

  it('fails the tasks of a thread that ends, and starts a new one for the next task', async () => {
    const inFlight = pool.writeDurably(path.join(root, '.t'), path.join(root, 'f'), 'x'.repeat(50 * 2 ** 20));
    await pool.close();
    await expect(inFlight).rejects.toThrow(/exited/);
    await pool.writeDurably(path.join(root, '.u'), path.join(root, 'g'), 'after');
    expect(await readFile(path.join(root, 'g'), 'utf8')).toBe('after');
  });
});
