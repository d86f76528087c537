import { SandboxOutcome } from '@app/domain';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BubblewrapSandboxRunner } from './bubblewrap-sandbox-runner.adapter';

/** A job on a benchmark, in the real sandbox: it reads /data, and nothing of the reference anywhere. */
const pythonBin = path.join(process.env.VENV_DIR ?? path.resolve(__dirname, '../../../../.venv'), 'bin', 'python');
const LABELS = 'label-secret-93f2c1';

/** Prints `REPORT {json}`: what /data holds, whether it can be written, and every place the labels were found. */
const probe = (referenceDir: string) => `
import json, os
# Split, so this program itself does not hold the labels it looks for.
labels = ${JSON.stringify(LABELS.slice(0, 6))} + ${JSON.stringify(LABELS.slice(6))}
report = {"env": os.environ.get("LEADERBOARD_DATA_DIR"), "data": None, "private": None, "write": {}, "reference": {}, "found": []}
if os.path.isdir("/data"):
    report["data"] = sorted(os.listdir("/data"))
    report["train"] = open("/data/train.csv").read()
    report["private"] = open("/data/images/private.txt").read()
    for target in ["/data/new.txt", "/data/train.csv"]:
        try:
            open(target, "a").close()
            report["write"][target] = True
        except OSError:
            report["write"][target] = False
for target in [${JSON.stringify(referenceDir)}, ${JSON.stringify(path.join(referenceDir, 'labels.csv'))}, "/reference"]:
    report["reference"][target] = os.path.exists(target)
for top in os.listdir("/"):
    if top in ("proc", "sys", "usr", "venv", "dev", "lib", "lib64", "bin", "sbin"):
        continue
    for folder, _, files in os.walk("/" + top):
        for name in files:
            try:
                if labels in open(os.path.join(folder, name), errors="replace").read():
                    report["found"].append(os.path.join(folder, name))
            except OSError:
                pass
report["mountinfo_names_reference"] = "reference" in open("/proc/self/mountinfo").read()
print("REPORT " + json.dumps(report))
`;

let root: string;
let benchmark: string;
let runner: BubblewrapSandboxRunner;
let counter = 0;

async function runJob(code: string, dataDir?: string): Promise<{ outcome: SandboxOutcome; report: Record<string, unknown> }> {
  const jobId = `data-${process.pid}-${++counter}`;
  const submissionDir = path.join(root, 'submissions', jobId);
  const outputDir = path.join(root, 'artifacts', jobId);
  await mkdir(submissionDir, { recursive: true });
  await mkdir(outputDir, { recursive: true });
  await writeFile(path.join(submissionDir, 'main.py'), code);
  await writeFile(path.join(root, 'config.yaml'), '{}\n');
  const logPath = path.join(root, `${jobId}.log`);
  const outcome = await runner.run(
    {
      jobId,
      submissionDir,
      outputDir,
      entrypoint: 'main.py',
      configPath: path.join(root, 'config.yaml'),
      logPath,
      env: {},
      limits: { timeoutSeconds: 20, memoryMb: 256, pidsMax: 32 },
      dataDir,
    },
    new AbortController().signal,
  );
  const log = await readFile(logPath, 'utf8');
  const line = log.split('\n').find((text) => text.startsWith('REPORT '));
  if (!line) throw new Error(`no report: ${JSON.stringify(outcome)} ${log}`);
  return { outcome, report: JSON.parse(line.slice('REPORT '.length)) };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lb-data-'));
  // The work dir must be reachable by the sandbox uids, as in production.
  await chmod(root, 0o755);
  benchmark = path.join(root, 'benchmarks', 'bench');
  await mkdir(path.join(benchmark, 'public', 'images'), { recursive: true });
  // 0700, as a benchmarks dir under /root would be: the sandbox uid cannot walk to it.
  await chmod(path.join(root, 'benchmarks'), 0o700);
  await mkdir(path.join(benchmark, 'reference'));
  await writeFile(path.join(benchmark, 'public', 'train.csv'), 'x,y\n1,2\n');
  await chmod(path.join(benchmark, 'public', 'train.csv'), 0o644);
  await writeFile(path.join(benchmark, 'public', 'images', 'private.txt'), 'only root may read the original');
  await chmod(path.join(benchmark, 'public', 'images', 'private.txt'), 0o600);
  await writeFile(path.join(benchmark, 'reference', 'labels.csv'), `${LABELS}\n`);
  await chmod(path.join(benchmark, 'reference', 'labels.csv'), 0o644);
  runner = new BubblewrapSandboxRunner({ pythonBin, trackingUri: 'http://127.0.0.1:5099', workDir: path.join(root, 'work') });
});

afterAll(() => rm(root, { recursive: true, force: true }));

describe('BubblewrapSandboxRunner with a benchmark', () => {
  let result: { outcome: SandboxOutcome; report: Record<string, unknown> };
  beforeAll(async () => {
    result = await runJob(probe(path.join(benchmark, 'reference')), path.join(benchmark, 'public'));
  }, 30_000);

  it('sees the public data at /data, LEADERBOARD_DATA_DIR=/data, even files only root could read on the host', () => {
    expect(result.outcome).toEqual({ kind: 'succeeded' });
    expect(result.report).toMatchObject({
      env: '/data',
      data: ['images', 'train.csv'],
      train: 'x,y\n1,2\n',
      private: 'only root may read the original',
    });
  });

  it('cannot write /data', () => {
    expect(result.report.write).toEqual({ '/data/new.txt': false, '/data/train.csv': false });
  });

  it('cannot reach the reference: not by its host path, not at /reference, not anywhere in the sandbox', () => {
    expect(Object.values(result.report.reference as Record<string, boolean>)).toEqual([false, false, false]);
    expect(result.report.found).toEqual([]);
    expect(result.report.mountinfo_names_reference).toBe(false);
  });

  it('has no /data and no LEADERBOARD_DATA_DIR without a benchmark', async () => {
    const { outcome, report } = await runJob('import json, os\nprint("REPORT " + json.dumps({"env": os.environ.get("LEADERBOARD_DATA_DIR"), "data": os.path.exists("/data")}))\n');
    expect(outcome).toEqual({ kind: 'succeeded' });
    expect(report).toEqual({ env: null, data: false });
  });
});
