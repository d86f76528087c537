import { IncomingFile, Invalid, RateLimited, TooLarge } from '@app/domain';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { storageContract } from '../../../domain/test/contracts/storage.contract';
import { FileSystemStorageAdapter, FileSystemStorageOptions, incomingDir } from './filesystem-storage.adapter';

const MB = 2 ** 20;
const roots: string[] = [];

afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

/** A fresh adapter over a new temp dir, with helpers to stage uploads and write logs like the real callers. */
async function fixture(overrides: Partial<FileSystemStorageOptions> = {}) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'leadersboard-storage-'));
  roots.push(root);
  const uploadRoot = path.join(root, 'submissions');
  const logRoot = path.join(root, 'logs');
  await mkdir(incomingDir(uploadRoot), { recursive: true });
  await mkdir(logRoot);
  const options = { uploadRoot, logRoot, artifactRoot: path.join(root, 'artifacts'), maxSubmissionBytes: 10 * MB, maxArchiveEntries: 100, maxConcurrentUnpacks: 4, ...overrides };
  const storage = new FileSystemStorageAdapter(options);
  const tempPathFor = () => path.join(incomingDir(uploadRoot), `upload-${randomUUID()}`);
  const incoming = async (name: string, content: string | Buffer): Promise<IncomingFile> => {
    const tempPath = tempPathFor();
    await writeFile(tempPath, content);
    return { originalName: name, tempPath, size: Buffer.byteLength(content) };
  };
  /** Builds an archive with Python (zipfile / tarfile make malicious entries easy) and stages it. */
  const archive = async (name: string, entries: ArchiveSpec[], tarFormat: 'pax' | 'gnu' | 'latin1' = 'pax'): Promise<IncomingFile> => {
    const tempPath = tempPathFor();
    const script = name.endsWith('.zip') ? ZIP_SCRIPT : TAR_SCRIPT;
    execFileSync('python3', ['-c', script, tempPath, tarFormat], { input: JSON.stringify(entries) });
    return { originalName: name, tempPath, size: (await readFile(tempPath)).length };
  };
  const writeLog = (jobId: string, text: string) => appendFile(path.join(logRoot, `${jobId}.log`), text);
  return { root, uploadRoot, storage, incoming, archive, writeLog };
}

interface ArchiveSpec {
  name: string;
  text?: string;
  /** Content of that many zero bytes (compresses extremely well). */
  zeros?: number;
  /** Content of that many random bytes (does not compress at all). */
  random?: number;
  /** zip: unix mode stored in external_attr. */
  mode?: number;
  /** tar: entry type (default file). */
  type?: 'dir' | 'symlink' | 'hardlink' | 'fifo';
  link?: string;
}

const ZIP_SCRIPT = `
import json, os, sys, zipfile
def content(entry):
    if 'zeros' in entry: return b'\\0' * entry['zeros']
    if 'random' in entry: return os.urandom(entry['random'])
    return entry.get('text', '').encode()
out, entries = sys.argv[1], json.load(sys.stdin)
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as archive:
    for entry in entries:
        info = zipfile.ZipInfo(entry['name'])
        info.compress_type = zipfile.ZIP_DEFLATED
        if 'mode' in entry:
            info.external_attr = entry['mode'] << 16
        data = content(entry)
        archive.writestr(info, data)
`;

const TAR_SCRIPT = `
import io, json, os, sys, tarfile
def content(entry):
    if 'zeros' in entry: return b'\\0' * entry['zeros']
    if 'random' in entry: return os.urandom(entry['random'])
    return entry.get('text', '').encode()
out, entries = sys.argv[1], json.load(sys.stdin)
types = {'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE, 'fifo': tarfile.FIFOTYPE}
form = sys.argv[2]
options = {'gnu': dict(format=tarfile.GNU_FORMAT), 'latin1': dict(format=tarfile.GNU_FORMAT, encoding='latin-1')}.get(form, {})
with tarfile.open(out, 'w:gz', **options) as archive:
    for entry in entries:
        info = tarfile.TarInfo(entry['name'])
        if 'type' in entry:
            info.type = types[entry['type']]
            info.linkname = entry.get('link', '')
            archive.addfile(info)
        else:
            data = content(entry)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
`;

describe('FileSystemStorageAdapter', () => {
  describe('contract', () => {
    storageContract(fixture);
  });

  describe('on disk', () => {
    const id = 'sub-1';

    /** After a rejected save nothing of the submission, nor of its uploads, may remain. */
    async function expectNothingLeft(uploadRoot: string) {
      expect(await readdir(uploadRoot)).toEqual(['.incoming']);
      expect(await readdir(incomingDir(uploadRoot))).toEqual([]);
    }

    it('moves uploads into files/ and writes snake_case metadata.json atomically', async () => {
      const { uploadRoot, storage, incoming } = await fixture();
      const upload = await incoming('main.py', 'print("hi")\n');
      expect(await storage.save(id, [upload])).toEqual(['main.py']);
      expect(existsSync(upload.tempPath)).toBe(false);
      expect(await readFile(path.join(uploadRoot, id, 'files', 'main.py'), 'utf8')).toBe('print("hi")\n');

      await storage.saveMetadata({
        submissionId: id,
        userId: 'alice',
        entrypoint: 'main.py',
        configFile: null,
        files: ['main.py'],
        metadata: {},
        createdAt: '2024-05-01T12:00:00.000Z',
      });
      expect(await readdir(path.join(uploadRoot, id))).toEqual(['files', 'metadata.json']);
      expect(JSON.parse(await readFile(path.join(uploadRoot, id, 'metadata.json'), 'utf8'))).toEqual({
        submission_id: id,
        user_id: 'alice',
        entrypoint: 'main.py',
        config_file: null,
        files: ['main.py'],
        metadata: {},
        created_at: '2024-05-01T12:00:00.000Z',
      });
      expect(await storage.load(id)).toBe(path.join(uploadRoot, id, 'files'));
    });

    it('unpacks a zip with nested folders next to the uploads and removes the zip', async () => {
      const { uploadRoot, storage, incoming, archive } = await fixture();
      const code = await archive('code.zip', [
        { name: 'main.py', text: 'import src.model\n' },
        { name: 'src/' },
        { name: 'src/model.py', text: 'MODEL = 1\n' },
        { name: 'src/utils/helpers.py', text: 'def helper(): pass\n' },
        { name: 'data/empty/' },
      ]);
      const files = await storage.save(id, [code, await incoming('config.yaml', 'lr: 0.1\n')]);
      expect(files).toEqual(['config.yaml', 'main.py', 'src/model.py', 'src/utils/helpers.py']);
      const filesDir = path.join(uploadRoot, id, 'files');
      expect(existsSync(path.join(filesDir, 'code.zip'))).toBe(false);
      expect(await readFile(path.join(filesDir, 'src/utils/helpers.py'), 'utf8')).toBe('def helper(): pass\n');
    });

    it('unpacks a tar.gz with nested folders, "./" prefixes included', async () => {
      const { uploadRoot, storage, archive } = await fixture();
      const code = await archive('code.tar.gz', [
        { name: '.', type: 'dir' },
        { name: './main.py', text: 'print(1)\n' },
        { name: './src', type: 'dir' },
        { name: './src/model.py', text: 'MODEL = 2\n' },
        { name: 'src/deep/er/layer.py', text: 'LAYER = 3\n' },
      ]);
      expect(await storage.save(id, [code])).toEqual(['main.py', 'src/deep/er/layer.py', 'src/model.py']);
      const filesDir = path.join(uploadRoot, id, 'files');
      expect(await readFile(path.join(filesDir, 'src/model.py'), 'utf8')).toBe('MODEL = 2\n');
      expect(existsSync(path.join(filesDir, 'code.tar.gz'))).toBe(false);
    });

    it('rejects a zip entry that climbs out with "../" and writes nothing anywhere', async () => {
      const { root, uploadRoot, storage, incoming, archive } = await fixture();
      const marker = `evil-${randomUUID()}.py`;
      // files/ is {root}/submissions/sub-1/files, so four levels up is outside the temp root.
      const escape = `../../../../${marker}`;
      const code = await archive('code.zip', [{ name: 'ok.py', text: '' }, { name: escape, text: 'pwned\n' }]);
      const error = await storage.save(id, [await incoming('main.py', ''), code]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Invalid);
      expect((error as Invalid).message).toContain(`archive "code.zip": entry "${escape}"`);
      await expectNothingLeft(uploadRoot);
      expect(existsSync(path.resolve(uploadRoot, id, 'files', escape))).toBe(false);
      expect(existsSync(path.join(path.dirname(root), marker))).toBe(false);
    });

    it('rejects an absolute zip entry and writes nothing anywhere', async () => {
      const { uploadRoot, storage, archive } = await fixture();
      const evil = path.join(os.tmpdir(), `evil-${randomUUID()}.py`);
      const code = await archive('code.zip', [{ name: evil, text: 'pwned\n' }]);
      await expect(storage.save(id, [code])).rejects.toThrow(/archive "code.zip": entry ".*" is absolute/);
      await expectNothingLeft(uploadRoot);
      expect(existsSync(evil)).toBe(false);
    });

    it('rejects a tar entry that climbs out with "../"', async () => {
      const { uploadRoot, storage, archive } = await fixture();
      const code = await archive('code.tar.gz', [{ name: '../../evil.py', text: 'pwned\n' }]);
      await expect(storage.save(id, [code])).rejects.toThrow(/entry "\.\.\/\.\.\/evil\.py" contains "\.\."/);
      await expectNothingLeft(uploadRoot);
      expect(existsSync(path.join(uploadRoot, 'evil.py'))).toBe(false);
    });

    it.each([
      ['a symbolic link', 'symlink', /is a symbolic link/],
      ['a hard link', 'hardlink', /is a hard link/],
      ['a fifo', 'fifo', /is a fifo/],
    ] as const)('rejects a tar holding %s', async (_, type, message) => {
      const { uploadRoot, storage, archive } = await fixture();
      const code = await archive('code.tar.gz', [
        { name: 'main.py', text: 'print(1)\n' },
        { name: 'passwd.py', type, link: type === 'fifo' ? undefined : '/etc/passwd' },
      ]);
      const error = await storage.save(id, [code]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Invalid);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain('entry "passwd.py"');
      await expectNothingLeft(uploadRoot);
    });

    it('rejects a zip holding a symbolic link', async () => {
      const { uploadRoot, storage, archive } = await fixture();
      const code = await archive('code.zip', [{ name: 'link.py', text: '/etc/passwd', mode: 0o120777 }]);
      await expect(storage.save(id, [code])).rejects.toThrow(/entry "link.py" is a symbolic link/);
      await expectNothingLeft(uploadRoot);
    });

    it.each(['bomb.zip', 'bomb.tar.gz'])('stops %s as TooLarge once past maxSubmissionBytes', async (name) => {
      const { uploadRoot, storage, archive } = await fixture({ maxSubmissionBytes: 10 * MB });
      const bomb = await archive(name, [{ name: 'zeros.bin', zeros: 50 * MB }]);
      expect(bomb.size).toBeLessThan(MB);
      const started = Date.now();
      const error = await storage.save(id, [bomb]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TooLarge);
      // A zip is refused from its central directory, a tar from the entry's header: both before writing.
      expect((error as Error).message).toContain(`archive "${name}" declares at least 50 MB`);
      expect((error as Error).message).toContain('10 MB limit per submission');
      expect(Date.now() - started).toBeLessThan(5000);
      await expectNothingLeft(uploadRoot);
    });

    it('counts the byte limit across all archives of a submission', async () => {
      const { storage, archive } = await fixture({ maxSubmissionBytes: 1000 });
      const first = await archive('a.zip', [{ name: 'a.bin', zeros: 600 }]);
      const second = await archive('b.tar.gz', [{ name: 'b.bin', zeros: 600 }]);
      await expect(storage.save(id, [first, second])).rejects.toBeInstanceOf(TooLarge);
    });

    it('rejects an archive with more entries than maxArchiveEntries', async () => {
      const { uploadRoot, storage, archive } = await fixture({ maxArchiveEntries: 5 });
      const entries = Array.from({ length: 6 }, (_, index) => ({ name: `file${index}.py`, text: '' }));
      await expect(storage.save(id, [await archive('many.zip', entries)])).rejects.toThrow(/at most 5 files and folders/);
      await expectNothingLeft(uploadRoot);
    });

    it.each([
      ['code.zip', 'this is not a zip file'],
      ['code.tar.gz', 'this is not a tarball, gzipped or otherwise'],
    ])('rejects a corrupt %s as Invalid', async (name, content) => {
      const { uploadRoot, storage, incoming } = await fixture();
      const error = await storage.save(id, [await incoming(name, content)]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Invalid);
      expect((error as Error).message).toMatch(new RegExp(`archive "${name}" is damaged`));
      await expectNothingLeft(uploadRoot);
    });

    it.each(['code.zip', 'code.tar.gz'])('rejects a truncated %s as Invalid', async (name) => {
      const { uploadRoot, storage, archive } = await fixture();
      const whole = await archive(name, [{ name: 'data.bin', random: 200_000 }]);
      const bytes = await readFile(whole.tempPath);
      await writeFile(whole.tempPath, bytes.subarray(0, bytes.length / 2));
      await expect(storage.save(id, [whole])).rejects.toBeInstanceOf(Invalid);
      await expectNothingLeft(uploadRoot);
    });

    it('rejects an archive entry that would overwrite an uploaded file', async () => {
      const { uploadRoot, storage, incoming, archive } = await fixture();
      const code = await archive('code.zip', [{ name: 'main.py', text: 'print("from zip")\n' }]);
      const main = await incoming('main.py', 'print("uploaded")\n');
      await expect(storage.save(id, [main, code])).rejects.toThrow(/entry "main.py" is a duplicate path/);
      await expectNothingLeft(uploadRoot);
    });

    it('rejects two archives that hold the same path', async () => {
      const { storage, archive } = await fixture();
      const first = await archive('a.zip', [{ name: 'src/model.py', text: '1' }]);
      const second = await archive('b.tar.gz', [{ name: 'src/model.py', text: '2' }]);
      await expect(storage.save(id, [first, second])).rejects.toThrow(/archive "b.tar.gz": entry "src\/model.py" is a duplicate path/);
    });

    it('counts plain files and unpacked archives against one limit', async () => {
      const { uploadRoot, storage, incoming, archive } = await fixture({ maxSubmissionBytes: 1000 });
      const plain = await incoming('data.txt', Buffer.alloc(600));
      const code = await archive('code.tar.gz', [{ name: 'more.bin', zeros: 600 }]);
      await expect(storage.save(id, [plain, code])).rejects.toThrow(/archive "code.tar.gz" declares at least 600 bytes of content: over the 1000 bytes limit per submission/);
      await expectNothingLeft(uploadRoot);
    });

    it('unpacks pax long names, non-ASCII names and GNU long names from a tar', async () => {
      const { storage, archive } = await fixture();
      const deep = `${'d'.repeat(120)}/${'n'.repeat(120)}.py`;
      const code = await archive('code.tar.gz', [{ name: deep, text: '1' }, { name: '模型/données.py', text: '2' }]);
      expect(await storage.save(id, [code])).toEqual([deep, '模型/données.py'].sort());
      const gnu = await archive('gnu.tar.gz', [{ name: `${'g'.repeat(150)}.py`, text: '3' }], 'gnu');
      expect(await storage.save('sub-2', [gnu])).toEqual([`${'g'.repeat(150)}.py`]);
    });

    it.each([
      ['a name segment over 255 bytes', `${'é'.repeat(128)}.py`, /entry ".*" has a name of 259 bytes; each file or folder name may be at most 255 bytes/],
      ['a path over 1024 bytes', `${'abcdefgh/'.repeat(120)}x.py`, /is 1084 bytes long; paths may be at most 1024 bytes/],
      ['a control character', 'a\u0007.py', /contains a control character/],
      ['a backslash', 'src\\..\\..\\x.py', /contains a backslash/],
    ])('rejects a tar entry with %s as Invalid, naming it', async (_, name, message) => {
      const { uploadRoot, storage, archive } = await fixture();
      const error = await storage.save(id, [await archive('code.tar.gz', [{ name, text: '' }])]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Invalid);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain('archive "code.tar.gz": entry');
      await expectNothingLeft(uploadRoot);
    });

    it('rejects a tar entry whose name is not UTF-8', async () => {
      const { uploadRoot, storage, archive } = await fixture();
      const code = await archive('code.tar.gz', [{ name: 'caf\u00e9.py', text: '' }], 'latin1');
      await expect(storage.save(id, [code])).rejects.toThrow(/entry "caf.*\.py" has a name that is not valid UTF-8/);
      await expectNothingLeft(uploadRoot);
    });

    it.each([
      ['letter case', [{ name: 'Model.py', text: '' }, { name: 'model.py', text: '' }], /entry "model.py" clashes with "Model.py"/],
      ['letter case of a folder', [{ name: 'src/a.py', text: '' }, { name: 'SRC/b.py', text: '' }], /entry "SRC\/b.py" clashes with "src"/],
      ['Unicode form', [{ name: 'caf\u00e9.py', text: '' }, { name: 'cafe\u0301.py', text: '' }], /clashes with "café.py": names may not differ only in letter case or Unicode form/],
      ['a file and a folder', [{ name: 'src', text: '' }, { name: 'src/a.py', text: '' }], /"src" is both a file and a folder/],
    ])('rejects names that differ only in %s', async (_, entries, message) => {
      const { uploadRoot, storage, archive } = await fixture();
      await expect(storage.save(id, [await archive('code.zip', entries)])).rejects.toThrow(message);
      await expectNothingLeft(uploadRoot);
    });

    it('rejects an archive entry that clashes with an uploaded file by case only', async () => {
      const { uploadRoot, storage, incoming, archive } = await fixture();
      const code = await archive('code.tar.gz', [{ name: 'MAIN.py', text: '' }]);
      await expect(storage.save(id, [await incoming('main.py', ''), code])).rejects.toThrow(/entry "MAIN.py" clashes with "main.py"/);
      await expectNothingLeft(uploadRoot);
    });

    it('refuses a second save with archives while MAX_CONCURRENT_UNPACKS are running, and frees the slot after', async () => {
      const { storage, archive } = await fixture({ maxConcurrentUnpacks: 1 });
      const first = storage.save('sub-1', [await archive('a.tar.gz', [{ name: 'a.py', text: '' }])]);
      const second = await archive('b.tar.gz', [{ name: 'b.py', text: '' }]);
      const refused = await storage.save('sub-2', [second]).catch((caught: unknown) => caught);
      expect(refused).toBeInstanceOf(RateLimited);
      expect((refused as RateLimited).retryAfterSeconds).toBeGreaterThan(0);
      expect((refused as Error).message).toContain('MAX_CONCURRENT_UNPACKS');
      expect(existsSync(second.tempPath)).toBe(false);
      await first;
      const third = await archive('c.tar.gz', [{ name: 'c.py', text: '' }]);
      expect(await storage.save('sub-3', [third])).toEqual(['c.py']);
    });

    it('discardIncoming deletes leftover uploads, ignores missing ones and never touches files elsewhere', async () => {
      const { root, storage, incoming } = await fixture();
      const leftover = await incoming('main.py', 'print(1)\n');
      const outside = path.join(root, 'keep.py');
      await writeFile(outside, 'keep\n');
      await storage.discardIncoming([leftover, leftover, { originalName: 'keep.py', tempPath: outside, size: 5 }]);
      expect(existsSync(leftover.tempPath)).toBe(false);
      expect(existsSync(outside)).toBe(true);
    });

    it('refuses to move an upload that is not in the incoming folder', async () => {
      const { root, uploadRoot, storage } = await fixture();
      const outside = path.join(root, 'secret.py');
      await writeFile(outside, 'secret\n');
      await expect(storage.save(id, [{ originalName: 'secret.py', tempPath: outside, size: 7 }])).rejects.toThrow(/incoming/);
      expect(existsSync(outside)).toBe(true);
      await expectNothingLeft(uploadRoot);
    });
  });
});

describe('FileSystemStorageAdapter.prepareRun (real disk)', () => {
  it('writes the effective config as YAML and creates a clean output dir under the artifact root', async () => {
    const { root, storage } = await fixture();
    const outputFile = path.join(root, 'artifacts', 'job-7', 'old.txt');
    await mkdir(path.dirname(outputFile), { recursive: true });
    await writeFile(outputFile, 'from an earlier attempt');
    const files = await storage.prepareRun('job-7', { lr: 0.1, model: { depth: 2 } });
    expect(files.outputDir).toBe(path.join(root, 'artifacts', 'job-7'));
    expect(await readdir(files.outputDir)).toEqual([]);
    expect(files.logPath).toBe(path.join(root, 'logs', 'job-7.log'));
    expect(await readFile(files.configPath, 'utf8')).toBe('lr: 0.1\nmodel:\n  depth: 2\n');
    await expect(storage.prepareRun('../job', {})).rejects.toThrow('not a plain id');
  });
});
