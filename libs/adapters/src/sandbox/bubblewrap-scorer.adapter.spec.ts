import { ScoreRun } from '@app/domain';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BubblewrapScorer, SCORER_UID_OFFSET } from './bubblewrap-scorer.adapter';

/** The real scorer sandbox: bwrap and the project venv's python, a score.py per test. */
const pythonBin = path.join(process.env.VENV_DIR ?? path.resolve(__dirname, '../../../../.venv'), 'bin', 'python');
const UID_BASE = 310000;
const LABELS = 'id,label\n1,1\n2,0\n';

/** A scorer that compares /predictions/predictions.csv with the labels; prints `REPORT {json}` of what it could do. */
const honestScorer = (hostPort: number) => `
import argparse, json, os, socket, stat
parser = argparse.ArgumentParser()
for name in ("--predictions", "--reference", "--output"):
    parser.add_argument(name, required=True)
args = parser.parse_args()
def can_write(target):
    try:
        open(target, "w").close()
        return True
    except OSError:
        return False
def connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False
report = {
    "args": [args.predictions, args.reference, args.output],
    "cwd": os.getcwd(),
    "uid": os.getuid(),
    "mlflow_env": sorted(name for name in os.environ if name.startswith("MLFLOW")),
    "write_predictions": can_write("/predictions/x"),
    "write_reference": can_write("/reference/x"),
    "write_program": can_write("/scorer/score.py"),
    "connects_host": connects(${hostPort}),
    "relay_socket": os.path.exists("/run/mlflow.sock"),
    "tool_mode": oct(stat.S_IMODE(os.stat("/predictions/tool").st_mode)),
}
print("REPORT " + json.dumps(report))
predictions = open(os.path.join(args.predictions, "predictions.csv")).read()
labels = open(os.path.join(args.reference, "labels.csv")).read()
with open(os.path.join(args.output, "scores.json"), "w") as out:
    json.dump({"accuracy": 1.0 if predictions == labels else 0.5}, out)
`;

/** Fails the way the contract asks when predictions.csv is missing; scores 1.0 only when it holds the labels. */
const strictScorer = `
import json, os, sys
path = "/predictions/predictions.csv"
if not os.path.isfile(path):
    print("no predictions.csv in the job's output", file=sys.stderr)
    sys.exit(1)
score = 1.0 if open(path).read() == open("/reference/labels.csv").read() else 0.1
json.dump({"accuracy": score}, open("/output/scores.json", "w"))
`;

let root: string;
let scorer: BubblewrapScorer;
let counter = 0;
let host: net.Server;
let hostPort: number;

interface Scored {
  run: ScoreRun;
  log: string;
}

async function score(
  program: string,
  options: { predictions?: (dir: string) => Promise<void>; timeoutSeconds?: number; memoryMb?: number; abort?: AbortSignal; using?: BubblewrapScorer } = {},
): Promise<Scored> {
  const jobId = `score-${process.pid}-${++counter}`;
  const predictionsDir = path.join(root, 'artifacts', jobId);
  await mkdir(predictionsDir, { recursive: true });
  if (options.predictions) await options.predictions(predictionsDir);
  else await writeFile(path.join(predictionsDir, 'predictions.csv'), LABELS);
  const scorerPath = path.join(root, 'benchmarks', 'bench', `score-${counter}.py`);
  await writeFile(scorerPath, program);
  const logPath = path.join(root, 'logs', `${jobId}.scorer.log`);
  const run = await (options.using ?? scorer).score(
    {
      jobId,
      scorerPath,
      predictionsDir,
      referenceDir: path.join(root, 'benchmarks', 'bench', 'reference'),
      logPath,
      limits: { timeoutSeconds: options.timeoutSeconds ?? 20, memoryMb: options.memoryMb ?? 256 },
    },
    options.abort ?? new AbortController().signal,
  );
  return { run, log: await readFile(logPath, 'utf8').catch(() => '') };
}

function report(log: string): Record<string, unknown> {
  const line = log.split('\n').find((text) => text.startsWith('REPORT '));
  if (!line) throw new Error(`no report in ${log}`);
  return JSON.parse(line.slice('REPORT '.length));
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lb-scorer-'));
  await chmod(root, 0o755);
  for (const dir of ['artifacts', 'logs', 'work']) await mkdir(path.join(root, dir));
  // 0700, as under /root: the scorer's uid reads the reference only through what is staged for it.
  await mkdir(path.join(root, 'benchmarks', 'bench', 'reference'), { recursive: true });
  await chmod(path.join(root, 'benchmarks'), 0o700);
  await writeFile(path.join(root, 'benchmarks', 'bench', 'reference', 'labels.csv'), LABELS, { mode: 0o600 });
  scorer = new BubblewrapScorer({ pythonBin, workDir: path.join(root, 'work'), sandboxUidBase: UID_BASE });
  host = net.createServer((socket) => socket.end());
  hostPort = await new Promise((resolve) => host.listen(0, '127.0.0.1', () => resolve((host.address() as net.AddressInfo).port)));
});

afterAll(async () => {
  host.close();
  await rm(root, { recursive: true, force: true });
});

describe('BubblewrapScorer', () => {
  describe('an honest scorer', () => {
    let scored: Scored;
    let seen: Record<string, unknown>;
    beforeAll(async () => {
      scored = await score(honestScorer(hostPort), {
        predictions: async (dir) => {
          await writeFile(path.join(dir, 'predictions.csv'), LABELS);
          await writeFile(path.join(dir, 'tool'), '#!/bin/sh\n');
          await chmod(path.join(dir, 'tool'), 0o4755);
        },
      });
      seen = report(scored.log);
    }, 30_000);

    it('succeeds and returns the text of scores.json', () => {
      expect(scored.run).toEqual({ outcome: { kind: 'succeeded' }, scoresJson: '{"accuracy": 1.0}' });
    });

    it('is called with /predictions, /reference and /output, in /scorer', () => {
      expect(seen.args).toEqual(['/predictions', '/reference', '/output']);
      expect(seen.cwd).toBe('/scorer');
    });

    it('cannot write /predictions, /reference or its own program; a setuid prediction arrives as 0444', () => {
      expect(seen).toMatchObject({ write_predictions: false, write_reference: false, write_program: false, tool_mode: '0o444' });
    });

    it('has no network, no relay and no MLFLOW_* variable', () => {
      expect(seen).toMatchObject({ connects_host: false, relay_socket: false, mlflow_env: [] });
    });

    it('runs as a uid of its own, above every job slot\'s', () => {
      if (process.getuid?.() !== 0) return expect(seen.uid).toBe(process.getuid?.());
      expect(seen.uid).toBe(UID_BASE + SCORER_UID_OFFSET);
    });

    it('leaves no staging behind', async () => {
      const stages = await readdir(path.join(root, 'work'));
      for (const stage of stages) expect((await readdir(path.join(root, 'work', stage))).sort()).toEqual(['launcher.py', 'owner']);
    });
  });

  it('does not read a prediction linked to the reference as a prediction, and says what it left out', async () => {
    const { run, log } = await score(strictScorer, {
      predictions: async (dir) => {
        await symlink('/reference/labels.csv', path.join(dir, 'predictions.csv'));
        await symlink(path.join(root, 'benchmarks', 'bench', 'reference', 'labels.csv'), path.join(dir, 'host-labels.csv'));
        execFileSync('mkfifo', [path.join(dir, 'pipe')]);
      },
    });
    expect(run.scoresJson).toBeNull();
    expect(run.outcome).toMatchObject({ kind: 'exit_code', exitCode: 1 });
    const tail = (run.outcome as { stderrTail: string }).stderrTail;
    expect(tail).toContain('predictions.csv: a symbolic link');
    expect(tail).toContain('pipe: a fifo');
    expect(tail).toContain("no predictions.csv in the job's output");
    expect(log).toContain("no predictions.csv in the job's output");
  });

  it('reports a failing scorer as its exit code with the tail of its stderr', async () => {
    const { run } = await score('import sys\nprint("reading predictions")\nprint("predictions.csv: column score missing", file=sys.stderr)\nsys.exit(3)\n');
    expect(run).toEqual({
      outcome: { kind: 'exit_code', exitCode: 3, stderrTail: 'reading predictions\npredictions.csv: column score missing' },
      scoresJson: null,
    });
  });

  it('kills a scorer past its time limit', async () => {
    const started = Date.now();
    const { run } = await score('import time\ntime.sleep(30)\n', { timeoutSeconds: 1 });
    expect(run).toEqual({ outcome: { kind: 'timeout', seconds: 1 }, scoresJson: null });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops a scorer at its memory limit', async () => {
    const { run } = await score('chunks = []\nwhile True:\n    chunks.append(b"x" * (16 * 2**20))\n', { memoryMb: 128 });
    expect(run.scoresJson).toBeNull();
    // A cgroup: out_of_memory; rlimits only (not root): the MemoryError of RLIMIT_DATA.
    if (process.getuid?.() === 0) expect(run.outcome).toEqual({ kind: 'out_of_memory', limitMb: 128 });
    else expect(run.outcome).toMatchObject({ kind: 'exit_code', stderrTail: expect.stringContaining('MemoryError') });
  });

  it('stops on abort', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 500);
    const { run } = await score('import time\ntime.sleep(30)\n', { abort: abort.signal });
    expect(run).toEqual({ outcome: { kind: 'aborted' }, scoresJson: null });
  });

  it('returns no scores when the scorer wrote none', async () => {
    expect((await score('print("done")\n')).run).toEqual({ outcome: { kind: 'succeeded' }, scoresJson: null });
  });

  it.each([
    ['a symbolic link', 'import os\nos.symlink("/reference/labels.csv", "/output/scores.json")\n', /symbolic link/],
    ['a folder', 'import os\nos.mkdir("/output/scores.json")\n', /not a regular file/],
    ['over 1 MiB', 'open("/output/scores.json", "w").write("{" + " " * 2**20 + "}")\n', /larger than 1048576 bytes/],
  ])('refuses a scores.json that is %s', async (_kind, program, message) => {
    const { run } = await score(program);
    expect(run.scoresJson).toBeNull();
    expect(run.outcome).toEqual({ kind: 'sandbox_error', message: expect.stringMatching(message) });
  });

  it('refuses predictions over its limits before starting the scorer', async () => {
    const small = new BubblewrapScorer({
      pythonBin,
      workDir: path.join(root, 'work'),
      sandboxUidBase: UID_BASE,
      predictionLimits: { maxBytes: 1024, maxEntries: 100, maxDepth: 4 },
    });
    const { run, log } = await score(strictScorer, {
      using: small,
      predictions: (dir) => writeFile(path.join(dir, 'predictions.csv'), Buffer.alloc(4096)),
    });
    expect(run).toEqual({
      outcome: { kind: 'sandbox_error', message: "could not stage the scorer: the job's output is larger than the 1024 bytes a scorer is given" },
      scoresJson: null,
    });
    expect(log).toBe('');
  });

  it('gives the scorer a job output it can read even where the job made it unreadable', async () => {
    const { run } = await score(strictScorer, {
      predictions: async (dir) => {
        await writeFile(path.join(dir, 'predictions.csv'), LABELS, { mode: 0o000 });
        await chmod(dir, 0o700);
      },
    });
    expect(run).toEqual({ outcome: { kind: 'succeeded' }, scoresJson: '{"accuracy": 1.0}' });
  });
});
