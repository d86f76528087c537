import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ContractProgram, sandboxContract } from '../../../domain/test/contracts/sandbox.contract';
import { BubblewrapSandboxRunner } from './bubblewrap-sandbox-runner.adapter';

const pythonBin = path.join(process.env.VENV_DIR ?? path.resolve(__dirname, '../../../../.venv'), 'bin', 'python');

const PROGRAMS: Record<ContractProgram, string> = {
  succeed: 'print("hello from the sandbox")\n',
  exit3: 'import sys\nprint("bad input", file=sys.stderr)\nsys.exit(3)\n',
  hang: 'import time\ntime.sleep(600)\n',
};

/** The same promises the ScriptedSandbox fake keeps, kept by the real bubblewrap runner. */
describe('BubblewrapSandboxRunner (contract, real sandbox)', () => {
  let root: string;
  let runs = 0;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'sandbox-contract-'));
    // mkdtemp makes 0700; the sandbox uid must walk in to reach what is bound for it.
    await chmod(root, 0o755);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  sandboxContract(async () => {
    const sandbox = new BubblewrapSandboxRunner({ pythonBin, trackingUri: 'http://127.0.0.1:5010', workDir: path.join(root, 'work') });
    return {
      sandbox,
      request: async (program, timeoutSeconds = 30) => {
        runs += 1;
        const dir = path.join(root, `run-${runs}`);
        await mkdir(path.join(dir, 'submission'), { recursive: true, mode: 0o755 });
        await mkdir(path.join(dir, 'output'), { mode: 0o755 });
        await writeFile(path.join(dir, 'submission', `${program}.py`), PROGRAMS[program], { mode: 0o644 });
        await writeFile(path.join(dir, 'config.yaml'), '{}\n', { mode: 0o644 });
        return {
          jobId: `contract-${runs}`,
          submissionDir: path.join(dir, 'submission'),
          outputDir: path.join(dir, 'output'),
          entrypoint: `${program}.py`,
          configPath: path.join(dir, 'config.yaml'),
          logPath: path.join(dir, 'job.log'),
          env: { MLFLOW_RUN_ID: 'run-1', MLFLOW_EXPERIMENT_ID: '1' },
          limits: { timeoutSeconds, memoryMb: 256, pidsMax: 32 },
        };
      },
      readLog: (request) => readFile(request.logPath, 'utf8'),
    };
  });
});
