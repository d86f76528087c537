import { Caller, CreateSubmission, IncomingFile, Invalid, TooLarge } from '@app/domain';
import { FixedClock } from '../fakes/fixed-clock';
import { InMemoryStorage } from '../fakes/in-memory-storage';
import { SequentialIds } from '../fakes/sequential-ids';

const alice = new Caller('alice', false);
const file = (originalName: string, size = 10): IncomingFile => ({ originalName, tempPath: `/tmp/incoming/${originalName}`, size });

describe('CreateSubmission', () => {
  let storage: InMemoryStorage;
  let useCase: CreateSubmission;

  beforeEach(() => {
    storage = new InMemoryStorage();
    useCase = new CreateSubmission(storage, new SequentialIds(), new FixedClock(), { maxFileBytes: 1000, maxFiles: 8, maxSubmissionBytes: 5000 });
  });

  it('stores the files with defaults and parsed metadata', async () => {
    const submission = await useCase.execute(alice, { files: [file('main.py'), file('config.yaml')], metadata: '{"model":"knn"}' });
    expect(submission).toMatchObject({
      submissionId: 'sub-1',
      userId: 'alice',
      entrypoint: 'main.py',
      configFile: 'config.yaml',
      files: ['config.yaml', 'main.py'],
      metadata: { model: 'knn' },
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(await storage.loadMetadata('sub-1')).toEqual(submission);
  });

  it('records no config file when the default one was not uploaded', async () => {
    const submission = await useCase.execute(alice, { files: [file('main.py')] });
    expect(submission.configFile).toBeNull();
  });

  it.each([
    ['../../../etc/passwd', 'contains ".."'],
    ['/etc/passwd', 'is absolute'],
    ['a/../../b.py', 'contains ".."'],
    ['..\\..\\evil.py', 'backslash'],
    ['main\0.py', 'NUL'],
    ['train.sh', 'must be a .py file'],
  ])('rejects entrypoint %j', async (entrypoint, reason) => {
    const attempt = useCase.execute(alice, { files: [file('main.py')], entrypoint });
    await expect(attempt).rejects.toBeInstanceOf(Invalid);
    await expect(attempt).rejects.toThrow(reason);
    expect(await storage.exists('sub-1')).toBe(false);
  });

  it('rejects an unsafe config_file', async () => {
    await expect(useCase.execute(alice, { files: [file('main.py')], configFile: '../../secrets.yaml' })).rejects.toThrow(
      'config_file "../../secrets.yaml" contains ".."',
    );
  });

  it('reports every problem at once', async () => {
    const attempt = useCase.execute(alice, { files: [file('run.exe')], entrypoint: '/abs.py', metadata: '{nope' });
    await expect(attempt).rejects.toMatchObject({
      problems: [
        expect.stringContaining('"run.exe" has an extension that is not allowed'),
        expect.stringContaining('entrypoint "/abs.py" is absolute'),
        expect.stringContaining('metadata is not valid JSON'),
      ],
    });
  });

  it('rejects metadata that is JSON but not an object', async () => {
    await expect(useCase.execute(alice, { files: [file('main.py')], metadata: '[1,2]' })).rejects.toThrow('metadata must be a JSON object');
  });

  it('rejects a missing entrypoint and an explicitly named missing config, leaving nothing behind', async () => {
    const discard = jest.spyOn(storage, 'discardIncoming');
    const files = [file('train.py')];
    const attempt = useCase.execute(alice, { files, configFile: 'conf.yaml' });
    await expect(attempt).rejects.toMatchObject({
      problems: [expect.stringContaining('entrypoint "main.py" is not among the uploaded files (train.py)'), expect.stringContaining('config_file "conf.yaml"')],
    });
    expect(await storage.exists('sub-1')).toBe(false);
    expect(discard).toHaveBeenCalledWith(files);
  });

  it('rejects no files, too many files, duplicates and names with folders', async () => {
    await expect(useCase.execute(alice, { files: [] })).rejects.toThrow('upload at least one file');
    const many = Array.from({ length: 9 }, (_, index) => file(`f${index}.py`));
    await expect(useCase.execute(alice, { files: many })).rejects.toThrow('at most 8 files');
    await expect(useCase.execute(alice, { files: [file('main.py'), file('main.py')] })).rejects.toThrow('uploaded twice');
    await expect(useCase.execute(alice, { files: [file('../main.py')] })).rejects.toThrow('not a plain file name');
  });

  it('counts names that differ only in letter case or Unicode form as the same', async () => {
    await expect(useCase.execute(alice, { files: [file('main.py'), file('Main.py')] })).rejects.toThrow('"Main.py" was uploaded twice');
    await expect(useCase.execute(alice, { files: [file('main.py'), file('caf\u00e9.py'), file('cafe\u0301.py')] })).rejects.toThrow(
      'uploaded twice',
    );
  });

  it('rejects a file name over 255 UTF-8 bytes, naming the file, with nothing stored', async () => {
    const long = `${'模'.repeat(90)}.py`;
    const attempt = useCase.execute(alice, { files: [file('main.py'), file(long)] });
    await expect(attempt).rejects.toBeInstanceOf(Invalid);
    await expect(attempt).rejects.toThrow(`files: "${long}" has a name of 273 bytes`);
    expect(await storage.exists('sub-1')).toBe(false);
  });

  it('rejects files that add up to more than the limit per submission with TooLarge', async () => {
    const files = Array.from({ length: 6 }, (_, index) => file(`f${index}.txt`, 900)).concat(file('main.py'));
    const attempt = useCase.execute(alice, { files });
    await expect(attempt).rejects.toBeInstanceOf(TooLarge);
    await expect(attempt).rejects.toThrow('MB limit per submission');
  });

  it('rejects an oversized file with TooLarge', async () => {
    await expect(useCase.execute(alice, { files: [file('main.py', 1001)] })).rejects.toBeInstanceOf(TooLarge);
  });

  it('accepts entrypoints in folders and every allowed extension', async () => {
    const names = ['main.py', 'a.yaml', 'b.yml', 'c.json', 'd.txt', 'e.zip', 'f.tar.gz'];
    const submission = await useCase.execute(alice, { files: names.map((name) => file(name)) });
    expect(submission.files).toHaveLength(names.length);
  });
});
