import { SandboxOutcome } from '@app/domain';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BubblewrapSandboxRunner } from './bubblewrap-sandbox-runner.adapter';
import { CGROUP_PARENT } from './cgroup';

/**
 * The real sandbox: bwrap, setpriv, the cgroups of this host and the project venv's python
 * (scripts/setup-python.sh). Every attack is a small Python program run as a job.
 */
const pythonBin = path.join(process.env.VENV_DIR ?? path.resolve(__dirname, '../../../../.venv'), 'bin', 'python');
const SECRET = 'alice:worker-secret-5b1e7c';
const limits = { timeoutSeconds: 5, memoryMb: 256, pidsMax: 32 };
/** Tries every way out it knows and prints `REPORT {json}` of what worked. */
const hostileProgram = readFileSync(path.join(__dirname, 'testing', 'hostile.py'), 'utf8');
/** Tries to write "exit 0" on any channel it can reach, kill pid 1, then exits 7; prints `FORGE {json}`. */
const forgeProgram = readFileSync(path.join(__dirname, 'testing', 'forge.py'), 'utf8');

interface HostileReport {
  read: Record<string, boolean | boolean[]>;
  top_level: string[];
  etc: string[];
  environ: Record<string, string>;
  secret_in_environ: boolean;
  proc_readable: string[];
  secret_in_proc: string[];
  pid1_environ: string[] | string;
  host_path_in_cmdlines: string[];
  write: Record<string, boolean>;
  connect: { loopback: string; interface: string | null };
  privileges: Record<string, unknown>;
  fds: string[];
}

let root: string;
let mlflow: http.Server;
let mlflowPort: number;
let mlflowHosts: string[];
let runner: BubblewrapSandboxRunner;
let jobCounter = 0;

interface JobResult {
  outcome: SandboxOutcome;
  log: string;
  outputDir: string;
  jobId: string;
  seconds: number;
}

async function runJob(
  code: string,
  options: {
    limits?: Partial<typeof limits>;
    config?: object;
    abort?: AbortSignal;
    env?: Record<string, string>;
    using?: BubblewrapSandboxRunner;
    /** What an earlier run left in the log. */
    logBefore?: string;
  } = {},
): Promise<JobResult> {
  const jobId = `job-${process.pid}-${++jobCounter}`;
  const submissionDir = path.join(root, 'submissions', jobId);
  const outputDir = path.join(root, 'artifacts', jobId);
  const logPath = path.join(root, 'logs', `${jobId}.log`);
  const configPath = path.join(root, 'configs', `${jobId}.yaml`);
  await mkdir(submissionDir, { recursive: true });
  await mkdir(outputDir, { recursive: true });
  await writeFile(path.join(submissionDir, 'main.py'), code);
  await writeFile(configPath, JSON.stringify(options.config ?? {}));
  if (options.logBefore) await writeFile(logPath, options.logBefore);
  const started = Date.now();
  const outcome = await (options.using ?? runner).run(
    {
      jobId,
      submissionDir,
      outputDir,
      entrypoint: 'main.py',
      configPath,
      logPath,
      env: options.env ?? { MLFLOW_RUN_ID: 'run-1', MLFLOW_EXPERIMENT_ID: '7' },
      limits: { ...limits, ...options.limits },
    },
    options.abort ?? new AbortController().signal,
  );
  const log = await readFile(logPath, 'utf8').catch(() => '');
  return { outcome, log, outputDir, jobId, seconds: (Date.now() - started) / 1000 };
}

/** Processes on the host whose command line contains `marker`. */
function hostProcesses(marker: string): string {
  return spawnSync('pgrep', ['-af', marker], { encoding: 'utf8' }).stdout.trim();
}

function listen(server: net.Server, host: string): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port)));
}

beforeAll(async () => {
  // A secret in the worker's environment that must reach no job.
  process.env.API_TOKENS = SECRET;
  root = await mkdtemp(path.join(tmpdir(), 'lb-sandbox-'));
  // As the real shared dir: the sandbox uid can walk to the job's own dirs.
  await chmod(root, 0o755);
  for (const dir of ['submissions', 'artifacts', 'logs', 'configs']) await mkdir(path.join(root, dir));
  mlflowHosts = [];
  mlflow = http.createServer((request, response) => {
    mlflowHosts.push(request.headers.host ?? '');
    response.end(request.url === '/health' ? 'OK' : 'not found');
  });
  mlflowPort = await listen(mlflow, '127.0.0.1');
  runner = new BubblewrapSandboxRunner({ pythonBin, trackingUri: `http://127.0.0.1:${mlflowPort}`, workDir: path.join(root, 'work') });
});

afterAll(async () => {
  delete process.env.API_TOKENS;
  await new Promise((resolve) => mlflow.close(resolve));
  await rm(root, { recursive: true, force: true });
});

describe('BubblewrapSandboxRunner', () => {
  it('self-checks: bwrap version, uid and limit mode', async () => {
    expect(await runner.selfCheck()).toMatch(
      /^bwrap \d+\.\d+\.\d+, uid 200000\+slot, seccomp, (cgroup v[12] \(memory, pids(, cpu|; no cpu controller, so no CPU quota)\)|rlimits only, no CPU quota \(.+\)), output capped by (a filesystem per run|polling \(.+\))$/,
    );
  });

  it('runs the entrypoint with --config and --output in /submission, as the sandbox uid, output to /output and the log', async () => {
    const code = `
import json, os, sys
print("to stdout")
print("to stderr", file=sys.stderr)
print("to stdout again")
open("/output/result.json", "w").write(json.dumps({
    "argv": sys.argv, "cwd": os.getcwd(), "uid": os.getuid(), "gid": os.getgid(),
    "config": json.load(open(sys.argv[2])),
    "run_id": os.environ.get("MLFLOW_RUN_ID"), "experiment_id": os.environ.get("MLFLOW_EXPERIMENT_ID"),
    "tracking_uri": os.environ.get("MLFLOW_TRACKING_URI"),
}))
`;
    const { outcome, log, outputDir } = await runJob(code, { config: { lr: 0.1 } });
    expect(outcome).toEqual({ kind: 'succeeded' });
    expect(log).toBe('to stdout\nto stderr\nto stdout again\n');
    expect(JSON.parse(await readFile(path.join(outputDir, 'result.json'), 'utf8'))).toEqual({
      argv: ['main.py', '--config', '/config.yaml', '--output', '/output'],
      cwd: '/submission',
      uid: 200000,
      gid: 200000,
      config: { lr: 0.1 },
      run_id: 'run-1',
      experiment_id: '7',
      tracking_uri: `http://127.0.0.1:${mlflowPort}`,
    });
  });

  it('reports a non-zero exit with the tail of the log', async () => {
    const { outcome } = await runJob('import sys\nprint("about to fail")\nprint("ValueError: bad learning rate", file=sys.stderr)\nsys.exit(3)\n');
    expect(outcome).toEqual({ kind: 'exit_code', exitCode: 3, stderrTail: 'about to fail\nValueError: bad learning rate' });
  });

  it('tells death by a signal from an exit code', async () => {
    const { outcome } = await runJob('import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n');
    expect(outcome).toMatchObject({ kind: 'signal', signal: 'SIGTERM' });
  });

  it('reports a SIGKILLed program as such, without a launcher traceback in the log', async () => {
    const { outcome, log } = await runJob('import os, signal\nprint("before", flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n');
    expect(outcome).toMatchObject({ kind: 'signal', signal: 'SIGKILL' });
    expect(log).toBe('before\n');
  });

  it('kills a job that runs past its timeout', async () => {
    const { outcome, seconds } = await runJob('import time\nprint("sleeping", flush=True)\ntime.sleep(60)\n', { limits: { timeoutSeconds: 2 } });
    expect(outcome).toEqual({ kind: 'timeout', seconds: 2 });
    expect(seconds).toBeLessThan(5);
  });

  it('stops a memory bomb at the memory limit: out_of_memory', async () => {
    const code = 'chunks = []\nwhile True:\n    chunks.append(b"x" * (16 * 2**20))\n';
    const { outcome, seconds } = await runJob(code, { limits: { memoryMb: 128 } });
    expect(outcome).toEqual({ kind: 'out_of_memory', limitMb: 128 });
    expect(seconds).toBeLessThan(5);
  });

  it('stops a fork bomb at the pids limit: process_limit, and the host keeps working', async () => {
    const marker = `forkbomb-${process.pid}-${Date.now()}`;
    const code = `
import os, sys, time
children = 0
try:
    while True:
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)", "${marker}"])
        children += 1
except OSError as error:
    print(f"fork refused after {children} children: {error}", file=sys.stderr)
    sys.exit(1)
`;
    const { outcome, log } = await runJob(code, { limits: { pidsMax: 20 } });
    expect(outcome).toEqual({ kind: 'process_limit', pidsMax: 20 });
    expect(log).toMatch(/fork refused after \d+ children/);
    expect(hostProcesses(marker)).toBe('');
    expect(spawnSync('true').status).toBe(0);
  });

  it('kills a running job on abort', async () => {
    const controller = new AbortController();
    const job = runJob('import time\nprint("running", flush=True)\ntime.sleep(60)\n', { abort: controller.signal, limits: { timeoutSeconds: 30 } });
    await sleep(1000);
    controller.abort();
    const { outcome, log, seconds } = await job;
    expect(outcome).toEqual({ kind: 'aborted' });
    expect(log).toContain('running');
    expect(seconds).toBeLessThan(4);
  });

  it('leaves no grandchild behind, even one in its own session', async () => {
    const marker = `escapee-${process.pid}-${Date.now()}`;
    const code = `
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(300)", "${marker}"])
time.sleep(2)
print("grandchild alive:", child.poll() is None)
`;
    const job = runJob(code);
    let seenDuringRun = '';
    for (let tries = 0; tries < 40 && !seenDuringRun; tries++) {
      await sleep(50);
      seenDuringRun = hostProcesses(marker);
    }
    const { outcome, log } = await job;
    expect(outcome).toEqual({ kind: 'succeeded' });
    expect(log).toContain('grandchild alive: True');
    expect(seenDuringRun).toContain(marker);
    expect(hostProcesses(marker)).toBe('');
  });

  it('reaches MLflow through the relay, under the tracking URI\'s own host and port', async () => {
    const code = 'import os, urllib.request\nprint(urllib.request.urlopen(os.environ["MLFLOW_TRACKING_URI"] + "/health", timeout=5).read().decode())\n';
    mlflowHosts.length = 0;
    const { outcome, log } = await runJob(code);
    expect(outcome).toEqual({ kind: 'succeeded' });
    expect(log).toBe('OK\n');
    expect(mlflowHosts).toEqual([`127.0.0.1:${mlflowPort}`]);
  });

  it('records a job that forges "exit 0" wherever it can, kills pid 1 and exits 7 as exit code 7', async () => {
    const { outcome, log } = await runJob(forgeProgram);
    const line = log.split('\n').find((text) => text.startsWith('FORGE '));
    if (!line) throw new Error(`the forging program printed no report:\n${log}`);
    const report = JSON.parse(line.slice('FORGE '.length)) as Record<string, unknown>;
    expect(outcome).toMatchObject({ kind: 'exit_code', exitCode: 7 });
    expect(report).toMatchObject({
      // pidfd_open is allowed; taking fds through it is not, nor reaching pid 1 through /proc or ptrace.
      pidfd_open_1: 'ok',
      pidfd_getfd_1: 'EPERM',
      stolen_from_1: [],
      proc_1_fd: 'EACCES',
      reopened_from_1: [],
      proc_1_mem: 'EACCES',
      ptrace_1: 'EPERM',
      ptrace_sibling: 'EPERM',
      process_vm_writev: 'EPERM',
      pidfd_getfd_sibling: 'EPERM',
      filtered: { io_uring_setup: 'EPERM', keyctl: 'EPERM', perf_event_open: 'EPERM', name_to_handle_at: 'EPERM', kcmp: 'EPERM' },
      // Sent, and dropped: the kernel delivers to a namespace's init only signals it handles, and the launcher handles none.
      kill_1: ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGSTOP', 'SIGKILL'],
    });
  });

  it('runs the job with at most 1024 open files, and numpy, threads and processes still work under the seccomp filter', async () => {
    const code = `
import multiprocessing, resource, threading, numpy
def square(x):
    return x * x
threads = [threading.Thread(target=lambda: None) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
with multiprocessing.Pool(2) as pool:
    print(pool.map(square, [1, 2, 3]), int(numpy.arange(4).sum()), resource.getrlimit(resource.RLIMIT_NOFILE))
`;
    const { outcome, log } = await runJob(code);
    expect(outcome).toEqual({ kind: 'succeeded' });
    expect(log).toBe('[1, 4, 9] 6 (1024, 1024)\n');
  });

  it('shows in /proc/self/mountinfo no host path of the submission or output, nor the job id', async () => {
    const { outcome, log, jobId, outputDir } = await runJob('import os\nprint(open("/proc/self/mountinfo").read())\nopen("/output/kept.txt", "w").write("kept")\n');
    expect(outcome).toEqual({ kind: 'succeeded' });
    for (const hostPath of [path.join(root, 'submissions'), path.join(root, 'artifacts'), path.join(root, 'configs'), path.join(root, 'logs'), jobId]) {
      expect(log).not.toContain(hostPath);
    }
    expect(log).toMatch(/\/slot-0\/submission \/submission /);
    expect(log).toMatch(/\/slot-0\/output \/output /);
    // What the job wrote still lands in its output dir.
    expect(await readFile(path.join(outputDir, 'kept.txt'), 'utf8')).toBe('kept');
  });

  it('runs concurrent jobs as different uids: one that exhausts its inotify instances leaves the other its own', async () => {
    const hog = `
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
count = 0
while libc.inotify_init() >= 0:
    count += 1
print("uid", os.getuid(), "exhausted after", count, "errno", ctypes.get_errno(), flush=True)
time.sleep(2)
`;
    // A range of its own: parallel suites run jobs as the default 200000 too.
    const slots = new BubblewrapSandboxRunner({ pythonBin, trackingUri: `http://127.0.0.1:${mlflowPort}`, workDir: path.join(root, 'work'), sandboxUidBase: 210000 });
    const first = runJob(hog, { limits: { timeoutSeconds: 15 }, using: slots });
    // The second starts once the first has used up what its uid may have.
    const firstLog = () => readFile(path.join(root, 'logs', `job-${process.pid}-${jobCounter}.log`), 'utf8').catch(() => '');
    for (let tries = 0; tries < 100 && !(await firstLog()).includes('exhausted'); tries++) await sleep(50);
    // EMFILE well below the 1024 open files: the per-uid inotify limit, not the fd limit.
    const limit = Number(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8'));
    expect(await firstLog()).toMatch(new RegExp(`^uid 210000 exhausted after ${limit} errno 24\n`));
    const second = await runJob('import ctypes, os\nprint("uid", os.getuid(), "inotify", ctypes.CDLL(None).inotify_init() >= 0)\n', { using: slots });
    expect(second.outcome).toEqual({ kind: 'succeeded' });
    expect(second.log).toBe('uid 210001 inotify True\n');
    expect((await first).outcome).toEqual({ kind: 'succeeded' });
  });

  describe('against hostile code', () => {
    let report: HostileReport;
    let outcome: SandboxOutcome;
    let hostTmpFile: string;
    let siblingSecret: string;
    let nonLoopback: string | undefined;
    const listeners: net.Server[] = [];

    beforeAll(async () => {
      const sibling = path.join(root, 'submissions', 'other-user');
      await mkdir(sibling, { recursive: true });
      siblingSecret = path.join(sibling, 'secret.txt');
      // World-readable on purpose: only the mount namespace keeps it out.
      await writeFile(siblingSecret, 'the other user secret', { mode: 0o644 });
      hostTmpFile = `lb-sandbox-escape-${process.pid}`;
      const loopback = net.createServer((socket) => socket.end('loopback listener'));
      listeners.push(loopback);
      const loopbackPort = await listen(loopback, '127.0.0.1');
      nonLoopback = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
      let nonLoopbackPort = 0;
      if (nonLoopback) {
        const server = net.createServer((socket) => socket.end('interface listener'));
        listeners.push(server);
        nonLoopbackPort = await listen(server, nonLoopback);
      }
      const result = await runJob(hostileProgram, {
        config: {
          secret: SECRET,
          sibling_secret: siblingSecret,
          sibling_relative: '../other-user/secret.txt',
          host_paths: [root, path.join(root, 'logs'), path.join(root, 'work'), process.cwd()],
          host_tmp_file: hostTmpFile,
          worker_pid: process.pid,
          loopback: ['127.0.0.1', loopbackPort],
          interface: nonLoopback ? [nonLoopback, nonLoopbackPort] : null,
        },
      });
      outcome = result.outcome;
      const line = result.log.split('\n').find((text) => text.startsWith('REPORT '));
      if (!line) throw new Error(`the hostile program printed no report:\n${result.log}`);
      report = JSON.parse(line.slice('REPORT '.length)) as HostileReport;
    });

    afterAll(async () => {
      for (const server of listeners) await new Promise((resolve) => server.close(resolve));
    });

    it('runs to the end', () => {
      expect(outcome).toEqual({ kind: 'succeeded' });
    });

    it('cannot read another submission, /etc/shadow or /root, nor see the host\'s paths', () => {
      expect(report.read).toEqual({
        sibling_by_host_path: false,
        sibling_by_relative_path: false,
        etc_shadow: false,
        root_home: false,
        host_paths: [false, false, false, false],
        sys: false,
      });
    });

    it('sees only the sandbox\'s own top level and /etc', () => {
      expect(report.top_level).toEqual(['bin', 'config.yaml', 'dev', 'etc', 'launcher.py', 'lib', 'lib64', 'output', 'proc', 'run', 'sbin', 'submission', 'tmp', 'usr', 'venv']);
      expect(report.etc).toEqual(['group', 'hosts', 'ld.so.cache', 'localtime', 'nsswitch.conf', 'passwd']);
    });

    it('finds the worker\'s secrets nowhere: not in its env, not in any /proc/*/environ or cmdline', () => {
      expect(report.secret_in_environ).toBe(false);
      expect(report.secret_in_proc).toEqual([]);
      expect(report.proc_readable.length).toBeGreaterThan(0);
      // pid 1 is the launcher, non-dumpable: its /proc files are closed to the job.
      expect(report.pid1_environ).toBe('PermissionError');
      expect(report.host_path_in_cmdlines).toEqual([]);
      // bwrap sets PWD for --chdir.
      expect(Object.keys(report.environ).sort()).toEqual(
        ['HOME', 'LANG', 'MLFLOW_DISABLE_TELEMETRY', 'MLFLOW_EXPERIMENT_ID', 'MLFLOW_RUN_ID', 'MLFLOW_TRACKING_URI', 'MPLCONFIGDIR', 'PATH', 'PWD', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED'],
      );
      expect(report.environ.PWD).toBe('/submission');
    });

    it('can write /output and its own /tmp (a tmpfs, not the host\'s), nothing else', () => {
      expect(report.write).toEqual({
        output: true,
        tmp: true,
        submission: false,
        usr: false,
        venv: false,
        etc: false,
        root_dir: false,
        dev: false,
        config: false,
      });
      expect(existsSync(path.join(tmpdir(), hostTmpFile))).toBe(false);
    });

    it('has no network: neither the host\'s 127.0.0.1 nor its interface address answers', () => {
      expect(report.connect.loopback).toMatch(/refused|unreachable/i);
      if (nonLoopback) expect(report.connect.interface).toMatch(/unreachable|refused/i);
    });

    it('runs without privileges: no caps, no new privs, no user namespaces, no setuid, no way to the worker', () => {
      expect(report.privileges).toEqual({
        uid: 200000,
        groups: [],
        cap_eff: '0000000000000000',
        cap_bnd: '0000000000000000',
        no_new_privs: '1',
        setuid_root: false,
        new_user_namespace: false,
        signal_worker: false,
      });
    });

    it('hands user code no file descriptor beyond stdio', () => {
      expect(report.fds).toEqual(['0', '1', '2']);
    });
  });

  it('is a sandbox_error, in bwrap\'s words, when the sandbox cannot be built', async () => {
    const broken = new BubblewrapSandboxRunner({ pythonBin: path.join(root, 'no-venv', 'bin', 'python'), trackingUri: `http://127.0.0.1:${mlflowPort}`, workDir: path.join(root, 'work') });
    const { outcome } = await runJob('print("never runs")\n', { using: broken });
    expect(outcome).toEqual({ kind: 'sandbox_error', message: expect.stringMatching(/^bwrap: Can't find source path .*no-venv/) });
  });

  it('is a sandbox_error naming the missing submission', async () => {
    const jobId = `job-${process.pid}-missing`;
    const configPath = path.join(root, 'configs', `${jobId}.yaml`);
    await writeFile(configPath, '{}');
    const outcome = await runner.run(
      {
        jobId,
        submissionDir: path.join(root, 'submissions', 'does-not-exist'),
        outputDir: await mkdtemp(path.join(root, 'artifacts', 'x-')),
        entrypoint: 'main.py',
        configPath,
        logPath: path.join(root, 'logs', `${jobId}.log`),
        env: {},
        limits,
      },
      new AbortController().signal,
    );
    expect(outcome).toEqual({ kind: 'sandbox_error', message: expect.stringMatching(/^could not prepare the sandbox: .*does-not-exist/) });
  });

  it('passes a GPU through as CUDA device 0, binding only the NVIDIA nodes this host has', async () => {
    const code = 'import os\nprint(os.environ.get("CUDA_VISIBLE_DEVICES"), sorted(n for n in os.listdir("/dev") if n.startswith("nvidia")))\n';
    const jobId = `job-${process.pid}-gpu`;
    const submissionDir = path.join(root, 'submissions', jobId);
    await mkdir(submissionDir);
    await writeFile(path.join(submissionDir, 'main.py'), code);
    await writeFile(path.join(root, 'configs', `${jobId}.yaml`), '{}');
    const logPath = path.join(root, 'logs', `${jobId}.log`);
    const outcome = await runner.run(
      {
        jobId,
        submissionDir,
        outputDir: await mkdtemp(path.join(root, 'artifacts', 'gpu-')),
        entrypoint: 'main.py',
        configPath: path.join(root, 'configs', `${jobId}.yaml`),
        logPath,
        env: {},
        limits,
        gpu: '0',
      },
      new AbortController().signal,
    );
    expect(outcome).toEqual({ kind: 'succeeded' });
    const hostNodes = ['nvidia-uvm', 'nvidia-uvm-tools', 'nvidia0', 'nvidiactl'].filter((node) => existsSync(`/dev/${node}`));
    expect(await readFile(logPath, 'utf8')).toBe(`0 ${JSON.stringify(hostNodes).replace(/"/g, "'").replace(/,/g, ', ')}\n`);
  });

  it('appends to the log and takes the tail from this run only; leaves no cgroup, relay or scratch behind', async () => {
    const { outcome, log, jobId } = await runJob('import sys\nprint("this run")\nsys.exit(2)\n', { logBefore: 'earlier run\n' });
    expect(outcome).toEqual({ kind: 'exit_code', exitCode: 2, stderrTail: 'this run' });
    expect(log).toBe('earlier run\nthis run\n');
    const stages = readdirSync(path.join(root, 'work')).filter((name) => name.startsWith('stage-'));
    expect(stages.length).toBeGreaterThan(0);
    // Only the owner record and the launcher copy stay: no slot dir, no staged submission, no relay socket.
    for (const stage of stages) expect(readdirSync(path.join(root, 'work', stage)).sort()).toEqual(['launcher.py', 'owner']);
    expect(log).not.toContain(jobId);
    for (const controller of ['memory', 'pids']) {
      expect(existsSync(path.join('/sys/fs/cgroup', controller, CGROUP_PARENT, jobId))).toBe(false);
    }
  });

  it('falls back to rlimits without a cgroup: memory and processes are still capped', async () => {
    const rlimits = new BubblewrapSandboxRunner({ pythonBin, trackingUri: `http://127.0.0.1:${mlflowPort}`, workDir: path.join(root, 'work'), cgroupRoot: false });
    expect(await rlimits.selfCheck()).toMatch(/, rlimits only, no CPU quota \(disabled by configuration\), output capped by /);
    const memory = await runJob('chunks = []\nwhile True:\n    chunks.append(b"x" * (16 * 2**20))\n', { using: rlimits, limits: { memoryMb: 128 } });
    expect(memory.outcome).toMatchObject({ kind: 'exit_code', exitCode: 1, stderrTail: expect.stringContaining('MemoryError') });
    const forks = await runJob('import os, sys, time\nfor i in range(200):\n    if os.fork() == 0:\n        time.sleep(30); os._exit(0)\n', { using: rlimits, limits: { pidsMax: 20 } });
    expect(forks.outcome).toMatchObject({ kind: 'exit_code', exitCode: 1, stderrTail: expect.stringMatching(/BlockingIOError|Resource temporarily unavailable/) });
  });
});
