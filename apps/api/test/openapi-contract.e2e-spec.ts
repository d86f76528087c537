import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { LeaderboardPort } from '@app/domain';
import { BenchmarkFixture, writeBenchmarkFixture } from './benchmark-fixture';
import { auth, RunningApi, startApi, TOKENS } from './harness';

/** The project venv, found the way scripts/setup-python.sh makes it. */
const VENV = process.env.VENV_DIR || path.resolve(__dirname, '../../../.venv');
const SCHEMATHESIS = path.join(VENV, 'bin', 'schemathesis');
/** Per API operation; with the fixed seed the run is the same every time (~20 s on 2 cores; 150 took ~70 s). */
const EXAMPLES_PER_OPERATION = 60;
const RUN_LIMIT_MS = 150_000;

interface Schema {
  type?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  enum?: string[];
  additionalProperties?: unknown;
  properties?: Record<string, Schema>;
}
interface Operation {
  parameters?: Array<{ name: string; in: string; schema: Schema }>;
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, { required?: boolean }> }>;
  security?: unknown[];
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

describe('the OpenAPI document matches the live API', () => {
  let api: RunningApi;
  let document: OpenApi;
  let fixture: BenchmarkFixture;

  beforeAll(async () => {
    fixture = await writeBenchmarkFixture();
    api = await startApi({ BENCHMARKS_DIR: fixture.dir, RATE_LIMIT_JOBS_PER_HOUR: '100000', RATE_LIMIT_CONCURRENT_JOBS: '100000' });
    document = (await request(api.server).get('/docs-json').expect(200)).body;
  });
  afterAll(async () => {
    await api?.close();
    await fixture?.remove();
  });

  const operation = (route: string, method: string): Operation => document.paths[route][method];
  const query = (route: string, name: string): Schema =>
    operation(route, 'get').parameters!.find((parameter) => parameter.in === 'query' && parameter.name === name)!.schema;

  it('types every parameter and field with the bounds the API enforces', () => {
    expect(query('/jobs', 'offset')).toMatchObject({ type: 'integer', minimum: 0, maximum: 1_000_000 });
    expect(query('/jobs', 'limit')).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(query('/jobs', 'all')).toMatchObject({ type: 'string', enum: ['true', 'false'] });
    expect(query('/jobs/{id}/logs', 'offset')).toMatchObject({ type: 'integer', minimum: 0, maximum: 2 ** 40 });
    const board = '/benchmarks/{id}/leaderboard';
    expect(query(board, 'all')).toMatchObject({ type: 'string', enum: ['true', 'false'] });
    expect(query(board, 'limit')).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000, default: 50 });
    expect(query(board, 'offset')).toMatchObject({ type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 });
    expect(query(board, 'format')).toMatchObject({ type: 'string', enum: ['json', 'csv'] });
    const id = operation(board, 'get').parameters!.find((parameter) => parameter.in === 'path' && parameter.name === 'id')!.schema;
    expect(id).toMatchObject({ type: 'string', pattern: '^[a-z0-9-]{1,64}$' });
    expect(Object.keys(operation(board, 'get').responses['200'].content!).sort()).toEqual(['application/json', 'text/csv']);
    const { schemas } = document.components;
    expect(schemas.CreateJobBody.properties!.submission_id).toMatchObject({ type: 'string', minLength: 1, maxLength: 64 });
    expect(schemas.CreateJobBody.additionalProperties).toBe(false);
    expect(schemas.CreateSubmissionForm.properties!.files).toMatchObject({ type: 'array', minItems: 1, maxItems: api.config.maxFilesPerSubmission });
  });

  it('lists JSON errors beside the text log, the real statuses, headers, and the token where one is needed', () => {
    const logs = operation('/jobs/{id}/logs', 'get').responses;
    expect(Object.keys(logs['200'].content!)).toEqual(['text/plain', 'text/event-stream']);
    expect(logs['200'].headers).toMatchObject({ 'X-Next-Offset': { required: true }, 'X-Log-Size': { required: true } });
    for (const status of ['400', '401', '403', '404', '429', '503']) expect(Object.keys(logs[status].content!)).toEqual(['application/json']);
    const create = operation('/jobs', 'post').responses;
    expect(Object.keys(create).sort()).toEqual(['202', '400', '401', '403', '404', '413', '415', '429', '431', '503']);
    expect(create['202'].headers).toHaveProperty('Idempotent-Replayed');
    expect(create['429'].headers).toMatchObject({ 'Retry-After': { required: true } });
    for (const [route, methods] of Object.entries(document.paths)) {
      for (const [method, item] of Object.entries(methods)) {
        if (route === '/healthz') expect(item.security).toBeUndefined();
        else expect({ route, method, security: item.security }).toEqual({ route, method, security: [{ bearer: [] }] });
      }
    }
  });

  it('passes schemathesis (fixed seed): no 5xx, no undocumented status, content type, header or body shape', async () => {
    expect(existsSync(SCHEMATHESIS)).toBe(true); // else: bash scripts/setup-python.sh
    // Real ids, so that generated requests reach past 404 into the routes' own logic.
    const submission = await request(api.server)
      .post('/submissions')
      .set(auth('alice'))
      .attach('files', Buffer.from('print(1)\n'), 'main.py')
      .attach('files', Buffer.from('lr: 0.1\n'), 'config.yaml')
      .expect(201);
    const job = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submission.body.submission_id }).expect(202);
    // A board with rows, so that generated reads of it are checked against the row schema.
    const scores = { auroc: 0.5, ap: 0.25 };
    await api.app.get(LeaderboardPort).record(
      { benchmarkId: 'alpha', jobId: job.body.job_id, userId: 'alice', submissionId: submission.body.submission_id, score: 0.5, scores, finishedAt: new Date().toISOString(), runId: 'r', experimentId: '1' },
      'desc',
    );

    const work = await mkdtemp(path.join(tmpdir(), 'lb-contract-'));
    try {
      const configFile = path.join(work, 'schemathesis.toml');
      await writeFile(
        configFile,
        [
          '[dictionaries.jobs]',
          // Job ids and benchmark ids share the path parameter name `id`.
          `values = ["${job.body.job_id}", "alpha", "broken"]`,
          '[dictionaries.submissions]',
          `values = ["${submission.body.submission_id}"]`,
          '[parameters]',
          '"path.id" = { dictionary = "jobs", probability = 0.5 }',
          '"body.submission_id" = { dictionary = "submissions", probability = 0.5 }',
          // A followed log of a job no worker runs stays open (keep-alives every 15 s): schemathesis would wait for it forever.
          '"query.follow" = "false"',
          '',
        ].join('\n'),
      );
      const { code, output } = await run(
        SCHEMATHESIS,
        [
          '--config-file', configFile,
          '--no-color',
          'run', `${api.url}/docs-json`,
          '-H', `Authorization: Bearer ${TOKENS.alice}`,
          '--seed', '20261202',
          '--max-examples', String(EXAMPLES_PER_OPERATION),
          // Every check but positive_data_acceptance: OpenAPI cannot say which file names
          // (extensions) an upload accepts, so a schema-valid upload may rightly get a 400.
          '--checks', 'all',
          '--exclude-checks', 'positive_data_acceptance',
          '--request-timeout', '20',
        ],
        work,
      );
      if (code !== 0) throw new Error(`schemathesis exited ${code}:\n${output.slice(-20_000)}`);
      expect(output).toMatch(/\d+ passed/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, RUN_LIMIT_MS + 30_000);
});

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // The API is local: a proxy set in the environment must not sit in between.
    const env = { ...process.env, NO_COLOR: '1', NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' };
    const child = spawn(command, args, { cwd, env });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
