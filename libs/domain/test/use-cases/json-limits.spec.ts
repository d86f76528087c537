import {
  Caller,
  CreateSubmission,
  deepMerge,
  EnqueueJob,
  ExecuteJob,
  Invalid,
  JSON_LIMITS,
  jsonDepth,
  jsonObjectProblem,
  UploadLimits,
} from '@app/domain';
import { FixedClock } from '../fakes/fixed-clock';
import { InMemoryJobQueue } from '../fakes/in-memory-job-queue';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';
import { InMemoryStorage } from '../fakes/in-memory-storage';
import { InMemoryTracking } from '../fakes/in-memory-tracking';
import { ScriptedSandbox } from '../fakes/scripted-sandbox';
import { SequentialIds } from '../fakes/sequential-ids';
import { InMemoryBenchmarkCatalog } from '../fakes/in-memory-benchmark-catalog';
import { fakeRanking } from '../fakes/ranking';

const alice = new Caller('alice', false);

/** {"a": {"a": … 1}} with `depth` objects, built without recursion. */
function nested(depth: number): Record<string, unknown> {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = { a: value };
  return value as Record<string, unknown>;
}

describe('JSON limits', () => {
  it('measures depth iteratively, so a value 100,000 levels deep cannot overflow the stack', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
    expect(jsonDepth(nested(100_000))).toBe(100_000);
    expect(jsonDepth(nested(100_000), 33)).toBe(34);
  });

  it('accepts an object up to the documented depth and size, and names the problem past them', () => {
    expect(jsonObjectProblem('config', nested(JSON_LIMITS.maxDepth))).toBeNull();
    expect(jsonObjectProblem('config', nested(JSON_LIMITS.maxDepth + 1))).toBe('config nests deeper than 32 levels; flatten it');
    expect(jsonObjectProblem('config', nested(10_000))).toContain('nests deeper than 32 levels');
    expect(jsonObjectProblem('config', { text: 'x'.repeat(JSON_LIMITS.maxBytes - 11) })).toBeNull();
    expect(jsonObjectProblem('config', { text: 'x'.repeat(JSON_LIMITS.maxBytes - 10) })).toContain('at most 65536');
    // Bytes, not characters: each of these is 3 bytes in UTF-8.
    expect(jsonObjectProblem('config', { text: '模'.repeat(22_000) })).toContain('at most 65536');
    expect(jsonObjectProblem('config', [])).toContain('must be a JSON object');
    expect(jsonObjectProblem('config', null)).toContain('must be a JSON object');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s at any depth, with its path', (key) => {
    const value = JSON.parse(`{"a":[{"b":{"${key}":{"polluted":true}}}]}`);
    expect(jsonObjectProblem('metadata', value)).toBe(`metadata uses the key "a.0.b.${key}", which is not allowed (__proto__, constructor, prototype)`);
  });

  it('deep-merges only checked objects: no unbounded recursion, no prototype keys', () => {
    expect(deepMerge({ a: { b: 1, c: 2 }, l: [1] }, { a: { b: 3 }, l: [2] })).toEqual({ a: { b: 3, c: 2 }, l: [2] });
    expect(() => deepMerge(nested(10_000), nested(10_000))).toThrow(new Invalid(['the config file nests deeper than 32 levels; flatten it', 'config nests deeper than 32 levels; flatten it']));
    expect(() => deepMerge({}, JSON.parse('{"__proto__":{"polluted":true}}'))).toThrow(Invalid);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('EnqueueJob refuses a config past the limits before anything is stored', async () => {
    const storage = new InMemoryStorage();
    const status = new InMemoryJobStatus();
    const queue = new InMemoryJobQueue();
    const useCase = new EnqueueJob(storage, status, queue, new SequentialIds(), new FixedClock(), new InMemoryBenchmarkCatalog(), {
      limits: { jobsPerHour: 10, concurrentJobs: 10 },
      defaultBenchmark: null,
    });
    await storage.saveMetadata({ submissionId: 'sub-a', userId: 'alice', entrypoint: 'main.py', configFile: null, files: ['main.py'], metadata: {}, createdAt: '2026-01-01T00:00:00Z' });
    await expect(useCase.execute(alice, { submissionId: 'sub-a', config: nested(33) })).rejects.toThrow('config nests deeper than 32 levels');
    await expect(useCase.execute(alice, { submissionId: 'sub-a', config: { text: 'x'.repeat(70_000) } })).rejects.toThrow(Invalid);
    expect(queue.pending.size).toBe(0);
    await expect(useCase.execute(alice, { submissionId: 'sub-a', config: nested(32) })).resolves.toMatchObject({ created: true });
  });

  it('CreateSubmission refuses metadata past the limits', async () => {
    const limits = { maxFileBytes: 1000, maxFiles: 8, maxSubmissionBytes: 5000 } as UploadLimits;
    const useCase = new CreateSubmission(new InMemoryStorage(), new SequentialIds(), new FixedClock(), limits);
    const files = [{ originalName: 'main.py', tempPath: '/tmp/incoming/main.py', size: 10 }];
    const deep = '{"a":'.repeat(6000) + '1' + '}'.repeat(6000);
    await expect(useCase.execute(alice, { files, metadata: deep })).rejects.toThrow('metadata nests deeper than 32 levels');
    await expect(useCase.execute(alice, { files, metadata: '{"x":{"constructor":1}}' })).rejects.toThrow('"x.constructor"');
  });

  it.each([
    ['nested 40 levels', `${Array.from({ length: 40 }, (_, level) => `${'  '.repeat(level)}a:`).join('\n')} 1\n`, 'the config file nests deeper than 32 levels'],
    ['with a __proto__ key', 'model:\n  __proto__:\n    polluted: 1\n', '"model.__proto__"'],
  ])('ExecuteJob fails a job whose config file is %s, with the reason, before merging it', async (_name, yaml, reason) => {
    const status = new InMemoryJobStatus();
    const storage = new InMemoryStorage();
    const tracking = new InMemoryTracking();
    const limits = { timeoutSeconds: 1, memoryMb: 512, pidsMax: 64 };
    const useCase = new ExecuteJob(status, storage, tracking, new ScriptedSandbox(), new FixedClock(), fakeRanking(), {
      experimentName: 'leaderboard',
      limits: { small: limits, medium: limits },
    });
    await storage.save('sub-1', [storage.stageIncoming('succeed.py', ''), storage.stageIncoming('config.yaml', yaml)]);
    await storage.saveMetadata({ submissionId: 'sub-1', userId: 'alice', entrypoint: 'succeed.py', configFile: 'config.yaml', files: [], metadata: {}, createdAt: 'then' });
    const job = { jobId: 'job-1', submissionId: 'sub-1', userId: 'alice', entrypoint: 'succeed.py', configFile: 'config.yaml', config: { lr: 1 } };
    await status.create({ ...job, resourceClass: 'small', benchmark: null, createdAt: 'then' }, { jobsPerHour: 10, concurrentJobs: 10 }, Date.now());
    const payload = { job_id: 'job-1', submission_id: 'sub-1', entrypoint: 'succeed.py', config_file: 'config.yaml', config: { lr: 1 }, resource_class: 'small' as const };
    const execution = await useCase.execute(payload, new AbortController().signal);
    expect(execution).toMatchObject({ job: { status: 'failed', errorMessage: expect.stringContaining(reason) } });
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
