import { Conflict, IncomingFile, Invalid, NotFound, StoragePort, Submission } from '@app/domain';

export interface StorageContractSubject {
  storage: StoragePort;
  /** Stages an upload the way the HTTP layer does. */
  incoming: (name: string, content: string) => Promise<IncomingFile>;
  /** Appends to a job's log the way the worker does. */
  writeLog: (jobId: string, text: string) => Promise<void>;
}

/** What every StoragePort promises; runs against the in-memory fake and the filesystem adapter. */
export function storageContract(make: () => Promise<StorageContractSubject>): void {
  const submissionId = 'sub-1';

  function submission(files: string[]): Submission {
    return {
      submissionId,
      userId: 'alice',
      entrypoint: 'main.py',
      configFile: 'config.yaml',
      files,
      metadata: { model: 'resnet', layers: [18, 34], tags: { team: 'vision' } },
      createdAt: '2024-05-01T12:00:00.000Z',
    };
  }

  async function saved(subject: StorageContractSubject, names = ['main.py', 'config.yaml']) {
    const uploads = await Promise.all(names.map((name) => subject.incoming(name, `# ${name}\n`)));
    const files = await subject.storage.save(submissionId, uploads);
    return { uploads, files };
  }

  it('save returns the stored names, sorted', async () => {
    const subject = await make();
    const { files } = await saved(subject, ['train.py', 'config.yaml', 'main.py']);
    expect(files).toEqual(['config.yaml', 'main.py', 'train.py']);
  });

  it('save refuses an id that is already taken', async () => {
    const subject = await make();
    await saved(subject);
    const again = await subject.incoming('main.py', 'print(2)\n');
    await expect(subject.storage.save(submissionId, [again])).rejects.toBeInstanceOf(Conflict);
  });

  it('save refuses names that differ only in letter case or Unicode form, and stores nothing', async () => {
    const { storage, incoming } = await make();
    for (const pair of [['main.py', 'Main.py'], ['caf\u00e9.py', 'cafe\u0301.py']]) {
      const uploads = await Promise.all(pair.map((name) => incoming(name, '')));
      await expect(storage.save(submissionId, uploads)).rejects.toBeInstanceOf(Invalid);
      expect(await storage.exists(submissionId)).toBe(false);
      await storage.discardIncoming(uploads);
    }
    // The id was never taken, so it can still be used.
    expect(await storage.save(submissionId, [await incoming('main.py', '')])).toEqual(['main.py']);
  });

  it('save refuses an id that is not a plain id', async () => {
    const { storage, incoming } = await make();
    await expect(storage.save('../escape', [await incoming('main.py', '')])).rejects.toBeInstanceOf(Invalid);
  });

  it('a submission exists only once its metadata is saved', async () => {
    const subject = await make();
    expect(await subject.storage.exists(submissionId)).toBe(false);
    const { files } = await saved(subject);
    expect(await subject.storage.exists(submissionId)).toBe(false);
    await subject.storage.saveMetadata(submission(files));
    expect(await subject.storage.exists(submissionId)).toBe(true);
  });

  it('loadMetadata returns what saveMetadata stored, and undefined for unknown ids', async () => {
    const subject = await make();
    const { files } = await saved(subject);
    await subject.storage.saveMetadata(submission(files));
    expect(await subject.storage.loadMetadata(submissionId)).toEqual(submission(files));
    expect(await subject.storage.loadMetadata('unknown')).toBeUndefined();
    expect(await subject.storage.loadMetadata('../../etc')).toBeUndefined();
  });

  it('load gives a location for a stored submission and NotFound for an unknown one', async () => {
    const subject = await make();
    const { files } = await saved(subject);
    await subject.storage.saveMetadata(submission(files));
    expect(await subject.storage.load(submissionId)).toEqual(expect.any(String));
    await expect(subject.storage.load('unknown')).rejects.toBeInstanceOf(NotFound);
  });

  it('remove deletes a submission and may be repeated', async () => {
    const subject = await make();
    const { files } = await saved(subject);
    await subject.storage.saveMetadata(submission(files));
    await subject.storage.remove(submissionId);
    expect(await subject.storage.exists(submissionId)).toBe(false);
    expect(await subject.storage.loadMetadata(submissionId)).toBeUndefined();
    await expect(subject.storage.load(submissionId)).rejects.toBeInstanceOf(NotFound);
    await expect(subject.storage.remove(submissionId)).resolves.toBeUndefined();
    await expect(subject.storage.remove('never-stored')).resolves.toBeUndefined();
  });

  it('a removed id can be saved again', async () => {
    const subject = await make();
    await saved(subject);
    await subject.storage.remove(submissionId);
    expect((await saved(subject, ['main.py'])).files).toEqual(['main.py']);
  });

  it('discardIncoming is harmless after save', async () => {
    const subject = await make();
    const { uploads, files } = await saved(subject);
    await subject.storage.discardIncoming(uploads);
    await subject.storage.saveMetadata(submission(files));
    expect(await subject.storage.exists(submissionId)).toBe(true);
    expect((await subject.storage.loadMetadata(submissionId))?.files).toEqual(files);
  });

  it('loadLogs is undefined for a job without a log', async () => {
    const { storage } = await make();
    expect(await storage.loadLogs('job-unknown', 0, 100)).toBeUndefined();
    expect(await storage.loadLogs('../../etc/passwd', 0, 100)).toBeUndefined();
  });

  it.each([4, 5, 7, 64])('loadLogs chunks of %i bytes stitch back to the whole log', async (limit) => {
    const { storage, writeLog } = await make();
    const text = 'epoch 1: café AUROC=0.91 €\n'.repeat(3) + 'done ✓ 🎉\n';
    await writeLog('job-1', text);
    const size = Buffer.byteLength(text);
    let offset = 0;
    let stitched = '';
    while (offset < size) {
      const chunk = await storage.loadLogs('job-1', offset, limit);
      expect(chunk?.size).toBe(size);
      expect(Buffer.byteLength(chunk!.text)).toBeLessThanOrEqual(limit);
      expect(chunk!.nextOffset).toBe(offset + Buffer.byteLength(chunk!.text));
      expect(chunk!.nextOffset).toBeGreaterThan(offset);
      stitched += chunk!.text;
      offset = chunk!.nextOffset;
    }
    expect(stitched).toBe(text);
  });

  it('loadLogs at the end of the log returns no text and keeps the offset', async () => {
    const { storage, writeLog } = await make();
    await writeLog('job-1', 'héllo\n');
    const size = Buffer.byteLength('héllo\n');
    expect(await storage.loadLogs('job-1', size, 100)).toEqual({ text: '', nextOffset: size, size });
  });

  it('loadLogs sees what was appended since the last read', async () => {
    const { storage, writeLog } = await make();
    await writeLog('job-1', 'step 1\n');
    const first = await storage.loadLogs('job-1', 0, 1000);
    await writeLog('job-1', 'step 2 €\n');
    const second = await storage.loadLogs('job-1', first!.nextOffset, 1000);
    const size = Buffer.byteLength('step 1\nstep 2 €\n');
    expect(second).toEqual({ text: 'step 2 €\n', nextOffset: size, size });
  });

  describe('run files', () => {
    async function withConfig(subject: StorageContractSubject, name: string, text: string) {
      const uploads = [await subject.incoming('main.py', ''), await subject.incoming(name, text)];
      await subject.storage.save(submissionId, uploads);
      await subject.storage.saveMetadata({ ...submission(['main.py', name]), configFile: name });
    }

    it('parses a YAML config file into an object', async () => {
      const subject = await make();
      await withConfig(subject, 'config.yaml', 'lr: 0.1\nmodel:\n  depth: 3\n  name: knn\n');
      expect(await subject.storage.loadSubmissionConfig(submissionId, 'config.yaml')).toEqual({ lr: 0.1, model: { depth: 3, name: 'knn' } });
    });

    it('parses a JSON config file, and an empty file as {}', async () => {
      const subject = await make();
      await withConfig(subject, 'config.json', '{"epochs": 2}');
      expect(await subject.storage.loadSubmissionConfig(submissionId, 'config.json')).toEqual({ epochs: 2 });
      const other = await make();
      await withConfig(other, 'config.yaml', '');
      expect(await other.storage.loadSubmissionConfig(submissionId, 'config.yaml')).toEqual({});
    });

    it('rejects a config that is not a mapping or not parseable, and a missing one', async () => {
      const subject = await make();
      await withConfig(subject, 'config.yaml', '- 1\n- 2\n');
      await expect(subject.storage.loadSubmissionConfig(submissionId, 'config.yaml')).rejects.toThrow('must hold a mapping');
      await expect(subject.storage.loadSubmissionConfig(submissionId, 'nope.yaml')).rejects.toBeInstanceOf(Invalid);
      const broken = await make();
      await withConfig(broken, 'config.yaml', 'a: [1, 2\n');
      await expect(broken.storage.loadSubmissionConfig(submissionId, 'config.yaml')).rejects.toThrow('cannot be parsed');
    });

    it('prepares a run with an empty log, and a second attempt starts the log afresh', async () => {
      const subject = await make();
      const files = await subject.storage.prepareRun('job-1', { lr: 0.5 });
      expect(files).toEqual({ configPath: expect.any(String), outputDir: expect.any(String), logPath: expect.any(String), scorerLogPath: expect.any(String) });
      await subject.writeLog('job-1', 'first attempt\n');
      await subject.storage.prepareRun('job-1', { lr: 0.5 });
      expect((await subject.storage.loadLogs('job-1', 0, 100))?.text).toBe('');
    });
  });
}
