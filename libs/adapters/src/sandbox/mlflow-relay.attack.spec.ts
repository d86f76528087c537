import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { mlflowUri } from '../../../../test/mlflow';
import { MlflowTrackingAdapter } from '../mlflow/mlflow-tracking.adapter';
import { MlflowRelay, relayAddress } from './mlflow-relay';
import { rawRequest, streamOf, tcpToUnix } from './testing/raw-http';

/**
 * The attacks of issue #6 (section 1) and their variants, replayed through a relay scoped to one
 * job's run against the real MLflow. Each must be refused, and the victim's run (another user's,
 * in the same experiment) must be exactly as it was.
 */
const api = `${mlflowUri()}/api/2.0`;
const MiB = 2 ** 20;

async function mlflow<T>(method: string, route: string, body?: object): Promise<T> {
  const response = await fetch(`${api}/${route}`, {
    method,
    body: body ? JSON.stringify(body) : undefined,
    headers: body ? { 'content-type': 'application/json' } : undefined,
  });
  if (!response.ok) throw new Error(`${route}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

interface Snapshot {
  run: unknown;
  artifacts: string[];
}

async function listArtifacts(folder: string): Promise<string[]> {
  const { files = [] } = await mlflow<{ files?: { path: string; is_dir?: boolean; file_size?: string }[] }>(
    'GET',
    `mlflow-artifacts/artifacts?path=${encodeURIComponent(folder)}`,
  );
  const out: string[] = [];
  for (const file of files) {
    const full = `${folder}/${file.path}`;
    out.push(`${file.path}:${file.file_size ?? 'dir'}`);
    if (file.is_dir) out.push(...(await listArtifacts(full)).map((entry) => `${file.path}/${entry}`));
  }
  return out.sort();
}

describe('MlflowRelay against the real MLflow: the attacks of issue #6', () => {
  const tracking = new MlflowTrackingAdapter({ trackingUri: mlflowUri() });
  const experimentName = `relay-attack-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  let dir: string;
  let relay: MlflowRelay;
  let socketPath: string;
  let exp: string;
  let job: string;
  let victim: string;
  let victimModel: string;
  let before: Snapshot;

  const snapshot = async (): Promise<Snapshot> => {
    const { run } = await mlflow<{ run: { info: Record<string, unknown>; data: unknown } }>('GET', `mlflow/runs/get?run_id=${victim}`);
    const model = await mlflow<unknown>('GET', `mlflow/logged-models/${victimModel}`);
    return { run: { ...run, model }, artifacts: await listArtifacts(`${exp}/${victim}/artifacts`) };
  };
  const send = (method: string, target: string, options: Parameters<typeof rawRequest>[3] = {}) =>
    rawRequest({ socketPath }, method, target, options);
  const json = (method: string, target: string, body: string) =>
    send(method, target, { headers: { 'content-type': 'application/json' }, body });

  beforeAll(async () => {
    if (!(await tracking.ping())) throw new Error(`no MLflow server answers at ${mlflowUri()}: start one with scripts/start-mlflow.sh`);
    dir = await mkdtemp(path.join(tmpdir(), 'relay-attack-'));
    ({ runId: victim, experimentId: exp } = await tracking.startRun(experimentName, 'victim', { user_id: 'bob' }));
    ({ runId: job } = await tracking.startRun(experimentName, 'job', { user_id: 'mallory' }));
    await tracking.logMetrics(victim, [{ key: 'auc', value: 0.5 }]);
    await tracking.logParams(victim, { lr: '0.1' });
    await tracking.logArtifact(victim, 'report.txt', new TextEncoder().encode('the real report'));
    const created = await mlflow<{ model: { info: { model_id: string } } }>('POST', 'mlflow/logged-models', {
      experiment_id: exp,
      name: 'victim-model',
      source_run_id: victim,
    });
    victimModel = created.model.info.model_id;
    before = await snapshot();
    socketPath = path.join(dir, 'mlflow.sock');
    relay = await MlflowRelay.start(socketPath, relayAddress(mlflowUri()).target, { runId: job, experimentId: exp }, undefined, {
      maxArtifactBytes: 8 * MiB,
    });
  });

  afterAll(async () => {
    await relay?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const metrics = (runId: string) => `"metrics":[{"key":"auc","value":0.99,"timestamp":1,"step":0,"run_id":"${runId}"}]`;

  it('refuses calls on another run, under any prefix and in any spelling, with 403 and a message', async () => {
    const attacks: [string, string, string][] = [
      // The reported walk-around: another prefix, the job's run in the query, the victim's in the body.
      ['POST', `/ajax-api/2.0/mlflow/runs/log-batch?run_id=${job}`, `{"run_id":"${victim}",${metrics(victim).replace(`,"run_id":"${victim}"`, '')}}`],
      ['POST', `/ajax-api/2.0/mlflow/runs/set-tag?run_id=${job}`, `{"run_id":"${victim}","key":"user_id","value":"mallory"}`],
      ['POST', `/ajax-api/2.0/mlflow/runs/delete-tag?run_id=${job}`, `{"run_id":"${victim}","key":"user_id"}`],
      ['POST', `/ajax-api/2.0/mlflow/runs/update?run_id=${job}`, `{"run_id":"${victim}","status":"FAILED","run_name":"pwned"}`],
      ['POST', `/api/2.0/mlflow/runs/log-batch?run_id=${job}`, `{"run_id":"${victim}","metrics":[]}`],
      ['POST', '/api/2.0/mlflow/runs/log-batch', `{"run_id":"${victim}",${metrics(victim)}}`],
      ['POST', '/api/2.0/mlflow/runs/set-tag', `{"run_id":"${victim}","key":"user_id","value":"mallory"}`],
      ['POST', '/api/2.0/mlflow/runs/delete-tag', `{"run_id":"${victim}","key":"user_id"}`],
      ['POST', '/api/2.0/mlflow/runs/update', `{"run_uuid":"${victim}","status":"FAILED"}`],
      ['POST', '/api/2.0/mlflow/runs/log-metric', `{"run_id":"${victim}","key":"auc","value":1,"timestamp":1}`],
      // Protobuf's lowerCamelCase spellings, and two spellings of one field.
      ['POST', '/api/2.0/mlflow/runs/update', `{"runId":"${victim}","status":"FAILED"}`],
      ['POST', '/api/2.0/mlflow/runs/update', `{"runUuid":"${victim}","status":"FAILED"}`],
      ['POST', '/api/2.0/mlflow/runs/update', `{"run_id":"${job}","runId":"${victim}","status":"FAILED"}`],
      ['POST', '/api/2.0/mlflow/runs/set-tag', `{"run_id":"${job}","run_uuid":"${victim}","key":"k","value":"v"}`],
      // A run named inside an array element; a run id in a field MLflow ignores.
      ['POST', '/api/2.0/mlflow/runs/log-batch', `{"run_id":"${job}",${metrics(victim)}}`],
      ['POST', '/api/2.0/mlflow/runs/log-batch', `{"run_id":"${job}","metrics":[],"extra":{"parentRunId":"${victim}"}}`],
      ['POST', '/api/2.0/mlflow/runs/outputs', `{"run_id":"${job}","models":[{"model_id":"${victimModel}","step":0}]}`],
      ['POST', '/api/2.0/mlflow/runs/log-metric', `{"run_id":"${job}","key":"auc","value":1,"timestamp":1,"modelId":"${victimModel}"}`],
      // Logged models: another run as the source, another experiment, another user's model.
      ['POST', '/api/2.0/mlflow/logged-models', `{"experiment_id":"${exp}","name":"m","sourceRunId":"${victim}"}`],
      ['POST', '/api/2.0/mlflow/logged-models', `{"experiment_id":"${exp}","name":"m","source_run_id":"${victim}"}`],
      ['POST', '/api/2.0/mlflow/logged-models', `{"experimentId":"0","name":"m","source_run_id":"${job}"}`],
      ['PATCH', `/api/2.0/mlflow/logged-models/${victimModel}`, `{"model_id":"${victimModel}","status":"LOGGED_MODEL_UPLOAD_FAILED"}`],
      ['PATCH', `/api/2.0/mlflow/logged-models/${victimModel}/tags`, `{"tags":[{"key":"k","value":"v"}]}`],
      // Endpoints no job needs.
      ['POST', '/api/2.0/mlflow/runs/search', `{"experiment_ids":["${exp}"]}`],
      ['POST', '/api/2.0/mlflow/runs/delete', `{"run_id":"${job}"}`],
      ['POST', '/api/2.0/mlflow/runs/create', `{"experiment_id":"${exp}"}`],
      ['POST', '/api/2.0/mlflow/experiments/search', '{}'],
      ['POST', '/api/2.0/mlflow/experiments/delete', `{"experiment_id":"${exp}"}`],
      ['POST', '/api/2.0/mlflow/registered-models/create', '{"name":"x"}'],
      ['POST', '/api/2.0/mlflow/logged-models/search', `{"experiment_ids":["${exp}"]}`],
      ['POST', '/ajax-api/graphql', '{"query":"{ mlflowGetRun(input: {runId: \\"x\\"}) { run { info { status } } } }"}'],
      ['POST', '/graphql', '{"query":"{ __typename }"}'],
      // Ambiguous bodies: not an object; and a target that is not canonical.
      ['POST', '/api/2.0/mlflow/runs/log-batch', `[{"run_id":"${job}"}]`],
      ['POST', '/api/2.0/mlflow/runs/log-batch/', `{"run_id":"${job}","metrics":[]}`],
      ['POST', '/api/2.0/mlflow//runs/log-batch', `{"run_id":"${job}","metrics":[]}`],
      ['POST', '/api/2.0/mlflow/runs/../runs/log-batch', `{"run_id":"${job}","metrics":[]}`],
      ['POST', '/api/2.0/mlflow/runs%2Flog-batch', `{"run_id":"${job}","metrics":[]}`],
      ['POST', `http://127.0.0.1/ajax-api/2.0/mlflow/runs/update`, `{"run_id":"${victim}","status":"FAILED"}`],
    ];
    for (const [method, target, body] of attacks) {
      const answer = await json(method, target, body);
      expect({ target, body, status: answer.status }).toEqual({ target, body, status: 403 });
      expect(JSON.parse(answer.text)).toEqual({ error_code: 'PERMISSION_DENIED', message: expect.stringMatching(/^refused by the LeadersBoard sandbox relay: .{20,}/) });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses reads of other runs and experiments, queries it did not check, and GET bodies', async () => {
    const reads = [
      `/api/2.0/mlflow/runs/get?run_id=${victim}`,
      `/api/2.0/mlflow/runs/get?run_uuid=${victim}&run_id=${job}`,
      `/api/2.0/mlflow/runs/get?run_id=${job}&run_id=${victim}`,
      `/api/2.0/mlflow/runs/get?run_id=${job}&runId=${victim}`,
      `/api/2.0/mlflow/runs/get?run_id=${job}&filter=x`,
      `/api/2.0/mlflow/runs/get`,
      `/api/2.0/mlflow/metrics/get-history?run_id=${victim}&metric_key=auc`,
      `/api/2.0/mlflow/experiments/get?experiment_id=0`,
      `/api/2.0/mlflow/experiments/search?max_results=10`,
      `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${experimentName}`,
      `/api/2.0/mlflow/logged-models/${victimModel}`,
      `/api/2.0/mlflow/registered-models/search`,
      `/api/2.0/mlflow-artifacts/artifacts?path=${exp}/${victim}/artifacts`,
      `/api/2.0/mlflow-artifacts/artifacts?path=${exp}`,
      `/api/2.0/mlflow-artifacts/artifacts?path=${exp}%2F${job}%2Fartifacts%2F..%2F..%2F${victim}%2Fartifacts`,
      `/api/2.0/mlflow-artifacts/artifacts/${exp}/${victim}/artifacts/report.txt`,
      `/ajax-api/2.0/mlflow/runs/get?run_id=${job}`,
      '/static-files/index.html',
      '/',
      '/graphql',
    ];
    for (const target of reads) {
      const answer = await send('GET', target);
      expect({ target, status: answer.status }).toEqual({ target, status: 403 });
    }
    // MLflow reads a GET body when there is no query: one that names the victim must not pass.
    const withBody = await json('GET', '/api/2.0/mlflow/runs/get', `{"run_id":"${victim}"}`);
    expect(withBody.status).toBe(403);
    const ownWithBody = await json('GET', `/api/2.0/mlflow/runs/get?run_id=${job}`, `{"run_id":"${victim}"}`);
    expect(ownWithBody.status).toBe(403);
    expect((await send('GET', `/api/2.0/mlflow/runs/get?run_id=${job}`)).status).toBe(200);
  });

  it('refuses bodies with duplicate keys, which the checker and MLflow could read differently', async () => {
    for (const body of [
      `{"run_id":"${job}","run_id":"${victim}","status":"FAILED"}`,
      `{"run_id":"${victim}","run_id":"${job}","status":"FAILED"}`,
      `{"run_id":"${job}","metrics":[{"key":"a","key":"b","value":1,"timestamp":1}]}`,
    ]) {
      const target = body.includes('metrics') ? '/api/2.0/mlflow/runs/log-batch' : '/api/2.0/mlflow/runs/update';
      const answer = await json('POST', target, body);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text).message).toMatch(/duplicate key/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('keeps the platform\'s keys on the job\'s own run: its tags and every leaderboard. key', async () => {
    const ownRun = async () => (await mlflow<{ run: { data: unknown } }>('GET', `mlflow/runs/get?run_id=${job}`)).run.data;
    const own = await ownRun();
    for (const [endpoint, body] of [
      ['runs/set-tag', `{"run_id":"${job}","key":"user_id","value":"bob"}`],
      ['runs/set-tag', `{"run_id":"${job}","key":"USER_ID","value":"bob"}`],
      ['runs/delete-tag', `{"run_id":"${job}","key":"user_id"}`],
      ['runs/log-metric', `{"run_id":"${job}","key":"leaderboard.image_AUROC","value":1,"timestamp":1}`],
      ['runs/log-parameter', `{"run_id":"${job}","key":"leaderboard.metric","value":"x"}`],
      ['runs/log-batch', `{"run_id":"${job}","metrics":[{"key":"loss","value":1,"timestamp":1,"step":0},{"key":"leaderboard.auc","value":1,"timestamp":1,"step":0}]}`],
      ['runs/log-batch', `{"run_id":"${job}","tags":[{"key":"job_id","value":"someone-else"}]}`],
    ]) {
      const answer = await json('POST', `/api/2.0/mlflow/${endpoint}`, body);
      expect({ body, status: answer.status }).toEqual({ body, status: 403 });
      expect(JSON.parse(answer.text).message).toMatch(/is reserved for the platform/);
    }
    expect(await ownRun()).toEqual(own);
    // Its own keys still go through.
    expect((await json('POST', '/api/2.0/mlflow/runs/set-tag', `{"run_id":"${job}","key":"team","value":"red"}`)).status).toBe(200);
  });

  it('writes no artifact outside the job\'s run, whatever the spelling of the path', async () => {
    const into = (rest: string) => `/api/2.0/mlflow-artifacts/artifacts/${rest}`;
    const targets = [
      into(`${exp}/${victim}/artifacts/z\\..\\..\\..\\${job}/x.txt`),
      into(`${exp}/${job}/artifacts/z\\..\\..\\..\\${victim}\\artifacts\\x.txt`),
      into(`${exp}/${job}/artifacts/z%5C..%5C..%5C..%5C${victim}%5Cartifacts%5Cx.txt`),
      into(`${exp}/${job}/artifacts/%2e%2e/%2e%2e/${victim}/artifacts/x.txt`),
      into(`${exp}/${job}/artifacts/%2E%2E%2F%2E%2E%2F${victim}%2Fartifacts%2Fx.txt`),
      into(`${exp}/${job}/artifacts/..%2F..%2F${victim}/artifacts/x.txt`),
      into(`${exp}/${job}/artifacts/../../${victim}/artifacts/x.txt`),
      into(`${exp}/${job}/artifacts/./../../${victim}/artifacts/x.txt`),
      into(`${exp}/${job}/artifacts//x.txt`),
      into(`${exp}/${job}/artifacts/x.txt%00.png`),
      into(`${exp}/${job}/artifacts/x.txt/`),
      into(`${exp}/${job}/artifacts/x.txt?path=${exp}/${victim}/artifacts/x.txt`),
      into(`${exp}/${job}/artifacts/%C0%AE%C0%AE/x.txt`),
      into(`${exp}/${victim}/artifacts/report.txt`),
      into(`${exp}/models/${victimModel}/artifacts/MLmodel`),
      into(`${exp}/${job}/../${victim}/artifacts/report.txt`),
      into(`${exp}/${job}`),
      `/ajax-api/2.0/mlflow-artifacts/artifacts/${exp}/${victim}/artifacts/report.txt`,
      `/api/2.0/mlflow-artifacts/mpu/create/${exp}/${victim}/artifacts/x.txt`,
      `http://127.0.0.1:5000${into(`${exp}/${victim}/artifacts/report.txt`)}`,
    ];
    for (const target of targets) {
      const answer = await send('PUT', target, { headers: { 'content-type': 'text/plain' }, body: 'forged' });
      expect({ target, status: answer.status }).toEqual({ target, status: 403 });
    }
    expect((await send('DELETE', into(`${exp}/${job}/artifacts/x.txt`))).status).toBe(403);
    expect(await snapshot()).toEqual(before);
    expect(await listArtifacts(`${exp}/${job}/artifacts`)).toEqual([]);
  });

  it('answers 413 to oversized bodies on every prefix without holding them, and caps the job\'s artifact bytes', async () => {
    const rssBefore = process.memoryUsage().rss;
    const big = 40 * MiB;
    const declared = await send('POST', '/api/2.0/mlflow/runs/log-batch', {
      headers: { 'content-type': 'application/json', 'content-length': String(big) },
      body: streamOf(big),
    });
    expect(declared.status).toBe(413);
    const chunked = await send('POST', '/api/2.0/mlflow/runs/log-batch', {
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: streamOf(big).map((chunk: Buffer) => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])),
    });
    expect(chunked.status).toBe(413);
    for (const prefix of ['/ajax-api/2.0/mlflow/runs/log-batch', '/ajax-api/2.0/mlflow-artifacts/artifacts/x']) {
      const answer = await send('POST', prefix, { headers: { 'content-type': 'application/json', 'content-length': String(big) }, body: streamOf(big) });
      expect(answer.status).toBe(403);
    }
    // Artifacts: this relay's cap is 8 MiB. Declared too big: refused before a byte goes on.
    const upload = `/api/2.0/mlflow-artifacts/artifacts/${exp}/${job}/artifacts/big.bin`;
    const declaredUpload = await send('PUT', upload, { headers: { 'content-length': String(big) }, body: streamOf(big) });
    expect(declaredUpload.status).toBe(413);
    // Streamed without a length: cut off at the cap, the upstream upload aborted.
    const streamed = await send('PUT', upload, {
      headers: { 'transfer-encoding': 'chunked' },
      body: streamOf(big).map((chunk: Buffer) => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])),
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.text).message).toMatch(/artifact cap/);
    const grown = (process.memoryUsage().rss - rssBefore) / MiB;
    // Six 40 MiB bodies went through this process (sent and refused): none was held whole.
    expect(grown).toBeLessThan(24);
    console.log(`relay attack spec: rss grew ${grown.toFixed(1)} MiB over six 40 MiB bodies`);
    const small = await send('PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/${job}/artifacts/small.txt`, { body: 'ok' });
    expect(small.status).toBe(413);
    expect(await listArtifacts(`${exp}/${job}/artifacts`)).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('answers 503 past the connection cap, and strips what the job may not send upstream', async () => {
    const { Socket } = await import('node:net');
    const held = await Promise.all(
      Array.from({ length: 8 }, () => new Promise<InstanceType<typeof Socket>>((resolve) => {
        const socket = new Socket();
        socket.connect(socketPath, () => resolve(socket));
      })),
    );
    try {
      const answer = await send('GET', '/health');
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
    } finally {
      for (const socket of held) socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const healthy = await send('GET', '/health', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=', 'x-forwarded-for': '10.0.0.1' } });
    expect(healthy.status).toBe(200);
  });

  it('lets a real job log everything through it with the plain mlflow client', async () => {
    // A fresh relay for the same run: the one above has spent its artifact cap.
    const ownSocket = path.join(dir, 'job.sock');
    const ownRelay = await MlflowRelay.start(ownSocket, relayAddress(mlflowUri()).target, { runId: job, experimentId: exp });
    const forwarder = await tcpToUnix(ownSocket);
    const script = path.join(dir, 'job.py');
    await writeFile(
      script,
      [
        'import os, mlflow, mlflow.sklearn',
        'from sklearn.linear_model import LogisticRegression',
        `out = ${JSON.stringify(dir)}`,
        "open(os.path.join(out, 'notes.txt'), 'w').write('notes')",
        "os.makedirs(os.path.join(out, 'plots', 'sub dir'), exist_ok=True)",
        "open(os.path.join(out, 'plots', 'sub dir', 'résumé (1).txt'), 'w').write('x')",
        "wanted = os.environ['MLFLOW_RUN_ID']",
        'with mlflow.start_run() as run:',
        '    assert run.info.run_id == wanted, run.info.run_id',
        "    mlflow.log_metric('auc', 0.91)",
        "    mlflow.log_metrics({'loss': 0.2, 'acc': 0.8}, step=2)",
        "    mlflow.log_param('lr', 0.01)",
        "    mlflow.log_params({'depth': 3})",
        "    mlflow.set_tag('stage', 'test')",
        "    mlflow.set_tags({'team': 'blue'})",
        "    mlflow.log_dict({'k': 1}, 'cfg/config.json')",
        "    mlflow.log_text('hello', 'hello.txt')",
        "    mlflow.log_artifact(os.path.join(out, 'notes.txt'))",
        "    mlflow.log_artifacts(os.path.join(out, 'plots'), artifact_path='plots')",
        '    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])',
        "    info = mlflow.sklearn.log_model(model, name='model')",
        "    print('MODEL', info.model_id)",
      ].join('\n'),
    );
    try {
      const { stdout } = await promisify(execFile)(path.resolve('.venv/bin/python'), [script], {
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          MLFLOW_TRACKING_URI: `http://127.0.0.1:${forwarder.port}`,
          MLFLOW_RUN_ID: job,
          MLFLOW_EXPERIMENT_ID: exp,
        },
        timeout: 60_000,
      });
      const modelId = /MODEL (\S+)/.exec(stdout)?.[1];
      expect(modelId).toBeDefined();
      const { run } = await mlflow<{ run: { info: { status: string }; data: { metrics: { key: string; value: number }[]; params: { key: string; value: string }[]; tags: { key: string; value: string }[] } } }>(
        'GET',
        `mlflow/runs/get?run_id=${job}`,
      );
      expect(run.info.status).toBe('FINISHED');
      expect(Object.fromEntries(run.data.metrics.map((metric) => [metric.key, metric.value]))).toEqual({ auc: 0.91, loss: 0.2, acc: 0.8 });
      expect(Object.fromEntries(run.data.params.map((param) => [param.key, param.value]))).toEqual({ lr: '0.01', depth: '3' });
      expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'stage', value: 'test' }, { key: 'team', value: 'blue' }]));
      const artifacts = await listArtifacts(`${exp}/${job}/artifacts`);
      expect(artifacts).toEqual(expect.arrayContaining(['cfg/config.json:12', 'hello.txt:5', 'notes.txt:5', 'plots/sub dir/résumé (1).txt:1']));
      const model = await mlflow<{ model: { info: { source_run_id: string; status: string } } }>('GET', `mlflow/logged-models/${modelId}`);
      expect(model.model.info).toMatchObject({ source_run_id: job, status: 'LOGGED_MODEL_READY' });
      expect((await listArtifacts(`${exp}/models/${modelId}/artifacts`)).some((entry) => entry.startsWith('MLmodel:'))).toBe(true);
    } finally {
      await forwarder.close();
      await ownRelay.close();
    }
    expect(await snapshot()).toEqual(before);
  }, 90_000);
});
