import { ScoreRun } from '@app/domain';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { UnsandboxedScorer } from './unsandboxed-scorer.adapter';

/** SANDBOX=none: no isolation, but the same arguments, copied predictions and scores.json rules. */
const pythonBin = path.join(process.env.VENV_DIR ?? path.resolve(__dirname, '../../../../.venv'), 'bin', 'python');
const LABELS = 'id,label\n1,1\n';

let root: string;
let counter = 0;
const scorer = new UnsandboxedScorer({ pythonBin });

async function score(program: string, predictions?: (dir: string) => Promise<void>): Promise<{ run: ScoreRun; log: string }> {
  const name = `job-${++counter}`;
  const predictionsDir = path.join(root, name, 'output');
  await mkdir(predictionsDir, { recursive: true });
  if (predictions) await predictions(predictionsDir);
  else await writeFile(path.join(predictionsDir, 'predictions.csv'), LABELS);
  await writeFile(path.join(root, name, 'score.py'), program);
  const logPath = path.join(root, name, 'scorer.log');
  const run = await scorer.score(
    {
      jobId: name,
      scorerPath: path.join(root, name, 'score.py'),
      predictionsDir,
      referenceDir: path.join(root, 'reference'),
      logPath,
      limits: { timeoutSeconds: 10, memoryMb: 256 },
    },
    new AbortController().signal,
  );
  return { run, log: await readFile(logPath, 'utf8') };
}

const strictScorer = `
import argparse, json, os, sys
parser = argparse.ArgumentParser()
for name in ("--predictions", "--reference", "--output"):
    parser.add_argument(name, required=True)
args = parser.parse_args()
print("MLFLOW", sorted(name for name in os.environ if name.startswith("MLFLOW")))
path = os.path.join(args.predictions, "predictions.csv")
if not os.path.isfile(path):
    sys.exit("no predictions.csv in the job's output")
score = 1.0 if open(path).read() == open(os.path.join(args.reference, "labels.csv")).read() else 0.1
json.dump({"accuracy": score}, open(os.path.join(args.output, "scores.json"), "w"))
`;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lb-unsandboxed-scorer-'));
  await mkdir(path.join(root, 'reference'));
  await writeFile(path.join(root, 'reference', 'labels.csv'), LABELS);
  process.env.MLFLOW_TRACKING_URI ??= 'http://127.0.0.1:5099';
});

afterAll(() => rm(root, { recursive: true, force: true }));

describe('UnsandboxedScorer', () => {
  it('runs score.py with the contract\'s arguments and no MLFLOW_* variable, and returns scores.json', async () => {
    const { run, log } = await score(strictScorer);
    expect(run).toEqual({ outcome: { kind: 'succeeded' }, scoresJson: '{"accuracy": 1.0}' });
    expect(log).toBe('MLFLOW []\n');
  });

  it('hands the scorer no symbolic link, so a link to the labels is no prediction', async () => {
    const { run } = await score(strictScorer, (dir) => symlink(path.join(root, 'reference', 'labels.csv'), path.join(dir, 'predictions.csv')));
    expect(run.scoresJson).toBeNull();
    expect(run.outcome).toMatchObject({ kind: 'exit_code', exitCode: 1, stderrTail: expect.stringContaining('predictions.csv: a symbolic link') });
  });

  it('refuses a scores.json that is a symbolic link', async () => {
    const linked = await score(`import os, sys\nos.symlink(${JSON.stringify(path.join(root, 'reference', 'labels.csv'))}, os.path.join(sys.argv[sys.argv.index("--output") + 1], "scores.json"))\n`);
    expect(linked.run).toEqual({ outcome: { kind: 'sandbox_error', message: 'scores.json is a symbolic link, not a regular file' }, scoresJson: null });
  });
});
