import { SandboxOutcome, SandboxRequest, SandboxRunnerPort } from '@app/domain';
import { ChildProcess, execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  bwrapArgs,
  gpuAccess,
  HostLayout,
  INSIDE,
  insideConfigPath,
  JOB_OPEN_FILES,
  JobFiles,
  jobFileContents,
  NVIDIA_SHARED_NODES,
  readHostLayout,
  sandboxEnv,
  setprivArgs,
} from './bwrap-args';
import { CgroupSupport, detectCgroups, JobCgroup } from './cgroup';
import { findLauncher, launcherCommand } from './launcher';
import { MlflowRelay, RelayAddress, relayAddress } from './mlflow-relay';
import { classifyOutcome, parseBwrapStatus, parseLauncherReport, readLogTail } from './outcome';
import { hostSeccompFilter } from './seccomp';
import { SlotStaging } from './slot-staging';
import { claimStageRoot, newStageRoot, removeStaleStageRoots } from './stage-roots';
import { ARGS_FD, BWRAP_STATUS_FD, killGroup, SECCOMP_FD, supervise } from './supervised-process';

export interface BubblewrapSandboxOptions {
  /** The venv's python (<repo>/.venv/bin/python); the venv must be built on a python under /usr. */
  pythonBin: string;
  /** The real MLflow (http://HOST:PORT); jobs reach it only through a per-job relay. */
  trackingUri: string;
  /**
   * When the worker is root, each concurrent run (slot N) runs as uid and gid base + N, so per-uid
   * kernel limits (inotify instances, RLIMIT_NPROC) are not shared between jobs. Default 200000.
   * A worker that is not root runs every job as its own uid.
   */
  sandboxUidBase?: number;
  /** Per-slot staging (slot-N/): the submission's links, the output, generated /etc files, the config copy, the relay socket. */
  workDir: string;
  /** Where the cgroup filesystems are mounted (default /sys/fs/cgroup); false: rlimits only. */
  cgroupRoot?: string | false;
  /** NVIDIA control nodes bound whenever a job has a GPU (default nvidiactl, nvidia-uvm, nvidia-uvm-tools). */
  gpuDevices?: string[];
  /** Default: python/launcher.py of this checkout. */
  launcherPath?: string;
}

const MB = 2 ** 20;
/** bwrap (outside), the launcher (pid 1 inside) and the relay forwarder count against pids.max too. */
const SANDBOX_PROCESSES = 3;
/** The spawned chain's whole environment: it shows in /proc/1/environ inside, so nothing of ours. */
const CHAIN_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const INSIDE_PATH = `${INSIDE.venv}/bin:/usr/local/bin:/usr/bin:/bin`;
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const DEFAULT_UID_BASE = 200000;

/**
 * Joins the cgroups before anything else runs: this shell, still root, writes its own pid to each
 * cgroup.procs given, then execs the rest of the chain in the same process. Every process of the job
 * descends from it after that point, so none can fork before it is counted and limited.
 */
const JOIN_CGROUPS = 'unset PWD; n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"';

/**
 * Runs each job as: worker (root) -> sh (joins the job's cgroup) -> prlimit -> setpriv (drops to the
 * sandbox uid, no caps, no new privs) -> bwrap (unprivileged: new user, pid, net, ipc, uts, cgroup
 * namespaces; /usr, the venv and the submission read-only; /output writable; nothing else of the host)
 * -> python launcher.py (pid 1, non-dumpable, under a seccomp filter) -> python {entrypoint}. The outcome
 * comes from outside: bwrap's JSON status (the launcher's exit status), the cgroup counters, the timeout.
 */
export class BubblewrapSandboxRunner extends SandboxRunnerPort {
  private readonly uidBase: number;
  private readonly slotsInUse = new Set<number>();
  /** This runner's own dir under workDir, which workers may share: slot-N of two workers never collide. */
  private readonly stageRoot: string;
  private readonly dropRoot = process.getuid?.() === 0;
  private readonly venvDir: string;
  private readonly launcherPath: string;
  private readonly tracking: RelayAddress;
  private readonly seccomp: Buffer;
  private layout?: Promise<HostLayout>;
  private boundLauncher?: Promise<string>;
  private cgroups?: Promise<CgroupSupport>;

  constructor(private readonly options: BubblewrapSandboxOptions) {
    super();
    this.uidBase = options.sandboxUidBase ?? DEFAULT_UID_BASE;
    this.stageRoot = newStageRoot(options.workDir);
    this.venvDir = path.dirname(path.dirname(options.pythonBin));
    this.launcherPath = options.launcherPath ?? findLauncher();
    this.tracking = relayAddress(options.trackingUri);
    this.seccomp = hostSeccompFilter();
  }

  async run(request: SandboxRequest, abort: AbortSignal): Promise<SandboxOutcome> {
    if (abort.aborted) return { kind: 'aborted' };
    const slot = this.takeSlot();
    try {
      let job: PreparedJob;
      try {
        job = await this.prepare(request, slot);
      } catch (error) {
        return { kind: 'sandbox_error', message: `could not prepare the sandbox: ${(error as Error).message}` };
      }
      try {
        return await this.execute(request, abort, job);
      } catch (error) {
        return { kind: 'sandbox_error', message: (error as Error).message };
      } finally {
        await job.cleanup();
      }
    } finally {
      this.slotsInUse.delete(slot);
    }
  }

  /** The lowest slot no run holds: at most as many as the worker runs at once. */
  private takeSlot(): number {
    let slot = 0;
    while (this.slotsInUse.has(slot)) slot++;
    this.slotsInUse.add(slot);
    return slot;
  }

  /** The uid and gid of a slot's runs. */
  private owner(slot: number): { uid: number; gid: number } {
    if (!this.dropRoot) return { uid: process.getuid!(), gid: process.getgid!() };
    return { uid: this.uidBase + slot, gid: this.uidBase + slot };
  }

  async selfCheck(): Promise<string> {
    const version = await bwrapVersion();
    const home = (await readFile(path.join(this.venvDir, 'pyvenv.cfg'), 'utf8').catch(() => '')).match(/^home = (.*)$/m)?.[1];
    if (!home) throw new Error(`${this.venvDir} is not a virtualenv (no pyvenv.cfg); run scripts/setup-python.sh`);
    if (!home.startsWith('/usr/')) {
      throw new Error(`the venv ${this.venvDir} is built on ${home}, which the sandbox cannot see; rebuild it on /usr/bin/python3.11 (scripts/setup-python.sh)`);
    }
    // Once per worker start: what workers killed mid-job left behind on this host.
    const stale = await removeStaleStageRoots(this.options.workDir);
    const outcome = await this.trialRun();
    if (outcome.kind !== 'succeeded') throw new Error(`a trivial sandboxed python did not run: ${describe(outcome)}`);
    const support = await this.cgroupSupport();
    const limits = support.version === 'none' ? `rlimits only (${support.reason})` : `cgroup v${support.version} (memory, pids)`;
    const uids = this.dropRoot ? `uid ${this.uidBase}+slot` : `uid ${process.getuid!()}`;
    const cleaned = stale.length > 0 ? `, removed ${stale.length} staging dir(s) of dead workers` : '';
    return `${version}, ${uids}, seccomp, ${limits}${cleaned}`;
  }

  private async prepare(request: SandboxRequest, slot: number): Promise<PreparedJob> {
    if (!JOB_ID.test(request.jobId)) throw new Error(`job id "${request.jobId}" cannot name a directory`);
    const cleanups: (() => Promise<unknown>)[] = [];
    const cleanup = async () => {
      for (const step of [...cleanups].reverse()) await step().catch(() => undefined);
    };
    const owner = this.owner(slot);
    try {
      await this.makeWorkDir();
      const staging = await SlotStaging.create(this.stageRoot, slot, this.dropRoot ? owner : undefined);
      cleanups.push(() => staging.remove());
      // Whatever the run ends like, what it wrote goes where the platform keeps it.
      cleanups.push(() => staging.collectOutput(request.outputDir));
      await staging.stageSubmission(request.submissionDir);
      const jobFiles = await this.writeJobFiles(staging, request.configPath, owner);
      const scope = { runId: request.env.MLFLOW_RUN_ID ?? '', experimentId: request.env.MLFLOW_EXPERIMENT_ID ?? '' };
      const relay = await MlflowRelay.start(path.join(staging.dir, 'mlflow.sock'), this.tracking.target, scope, owner);
      cleanups.push(() => relay.close());
      const cgroup = await this.createCgroup(request);
      if (cgroup) cleanups.push(() => cgroup.remove());
      const log = await open(request.logPath, 'a');
      cleanups.push(() => log.close());
      const logStart = (await log.stat()).size;
      return { owner, staging, jobFiles, relay, cgroup, logFd: log.fd, logStart, cleanup };
    } catch (error) {
      await cleanup();
      throw error;
    }
  }

  private async execute(request: SandboxRequest, abort: AbortSignal, job: PreparedJob): Promise<SandboxOutcome> {
    const { limits } = request;
    const gpu = gpuAccess(request.gpu, this.options.gpuDevices ?? NVIDIA_SHARED_NODES, undefined, listGpuNodes);
    const env = sandboxEnv({
      requestEnv: request.env,
      trackingUri: this.tracking.insideUri,
      cudaVisibleDevices: gpu.cudaVisibleDevices,
      home: INSIDE.tmp,
      path: INSIDE_PATH,
    });
    const options = bwrapArgs({
      layout: await this.hostLayout(),
      venvDir: this.venvDir,
      launcherPath: await this.boundLauncher!,
      submissionDir: job.staging.submission,
      outputDir: job.staging.output,
      jobFiles: job.jobFiles,
      relaySocket: job.relay.socketPath,
      env,
      tmpBytes: Math.min(limits.memoryMb, 1024) * MB,
      devices: gpu.devices,
    });
    const chain = [
      ...(job.cgroup ? ['/bin/sh', '-c', JOIN_CGROUPS, 'sh', String(job.cgroup.procsFiles.length), ...job.cgroup.procsFiles] : []),
      'prlimit',
      '--core=0',
      `--nofile=${JOB_OPEN_FILES}`,
      // Without a cgroup: RLIMIT_DATA for memory; RLIMIT_NPROC counts every process of the uid, all jobs together.
      ...(job.cgroup ? [] : [`--data=${limits.memoryMb * MB}`, `--nproc=${limits.pidsMax + SANDBOX_PROCESSES}`]),
      '--',
      ...(this.dropRoot ? setprivArgs(job.owner.uid, job.owner.gid) : []),
      'bwrap',
      '--args', String(ARGS_FD),
      // Written by bwrap outside the sandbox: the exit status of the launcher, which the job cannot reach.
      '--json-status-fd', String(BWRAP_STATUS_FD),
      '--seccomp', String(SECCOMP_FD),
      '--',
      ...launcherCommand({
        python: `${INSIDE.venv}/bin/python`,
        launcher: INSIDE.launcher,
        entrypoint: request.entrypoint,
        config: insideConfigPath(job.jobFiles.config),
        output: INSIDE.output,
        relay: { socket: INSIDE.relaySocket, port: this.tracking.target.port },
      }),
    ];
    const killTree = async (child: ChildProcess) => {
      killGroup(child);
      await job.cgroup?.killAll();
    };
    const exit = await supervise({
      command: chain[0],
      args: chain.slice(1),
      env: CHAIN_ENV,
      cwd: '/',
      logFd: job.logFd,
      feed: { [ARGS_FD]: Buffer.from(options.map((arg) => `${arg}\0`).join('')), [SECCOMP_FD]: this.seccomp },
      collect: [BWRAP_STATUS_FD],
      timeoutMs: limits.timeoutSeconds * 1000,
      abort,
      killTree,
    });
    if (exit.spawnError) return { kind: 'sandbox_error', message: `could not start the sandbox: ${exit.spawnError.message}` };
    // Whatever outlived the sandbox's pid 1 (nothing should) goes before the counters are read.
    await job.cgroup?.killAll();
    // bwrap writes an exit code only once the sandbox is up and the launcher runs; without one the job never started.
    const bwrap = parseBwrapStatus(exit.collected[BWRAP_STATUS_FD] ?? '');
    const started = bwrap.exitCode !== undefined;
    return classifyOutcome(
      {
        timedOut: exit.timedOut,
        aborted: exit.aborted,
        started,
        report: parseLauncherReport(exit.status),
        exitCode: started ? bwrap.exitCode! : exit.exitCode,
        signal: started ? null : exit.signal,
        counters: await job.cgroup?.counters(),
        logTail: await readLogTail(request.logPath, job.logStart),
      },
      limits,
    );
  }

  private async writeJobFiles(staging: SlotStaging, configPath: string, owner: { uid: number; gid: number }): Promise<JobFiles> {
    const contents = jobFileContents(owner.uid, owner.gid, this.tracking.insideHost);
    const files = {} as JobFiles;
    for (const [name, text] of Object.entries(contents) as [keyof typeof contents, string][]) {
      files[name] = path.join(staging.etc, name);
      await writeFile(files[name], text, { mode: 0o444 });
    }
    // A copy: the sandbox uid may not be able to reach the worker's own file.
    files.config = path.join(staging.dir, `config${path.extname(configPath) || '.yaml'}`);
    await copyFile(configPath, files.config);
    await chmod(files.config, 0o444);
    return files;
  }

  private async createCgroup(request: SandboxRequest): Promise<JobCgroup | undefined> {
    const support = await this.cgroupSupport();
    if (support.version === 'none') return undefined;
    return JobCgroup.create(support, request.jobId, {
      memoryBytes: request.limits.memoryMb * MB,
      pidsMax: request.limits.pidsMax + SANDBOX_PROCESSES,
    });
  }

  /** A slot's uid walks through workDir to its own slot-N dir (0711: it cannot list the others). */
  private async makeWorkDir(): Promise<void> {
    const created = await mkdir(this.options.workDir, { recursive: true });
    if (created !== undefined) await chmod(this.options.workDir, 0o711);
    await claimStageRoot(this.stageRoot);
    this.boundLauncher ??= this.copyLauncher();
    await this.boundLauncher;
  }

  /**
   * bwrap opens bind sources as the sandbox uid, which may not reach the checkout (a clone under
   * /root, say); the work dir it must reach anyway, so the launcher is bound from a copy there.
   */
  private async copyLauncher(): Promise<string> {
    const copy = path.join(this.options.workDir, 'launcher.py');
    await copyFile(this.launcherPath, copy);
    await chmod(copy, 0o644);
    return copy;
  }

  private cgroupSupport(): Promise<CgroupSupport> {
    const root = this.options.cgroupRoot ?? '/sys/fs/cgroup';
    this.cgroups ??= root === false || !this.dropRoot
      ? Promise.resolve({ version: 'none', reason: root === false ? 'disabled by configuration' : 'the worker is not root' })
      : detectCgroups(root);
    return this.cgroups;
  }

  private hostLayout(): Promise<HostLayout> {
    this.layout ??= readHostLayout();
    return this.layout;
  }

  private async trialRun(): Promise<SandboxOutcome> {
    const jobId = `selfcheck-${randomUUID().slice(0, 8)}`;
    const dir = path.join(this.options.workDir, `${jobId}-files`);
    await this.makeWorkDir();
    await mkdir(path.join(dir, 'submission'), { recursive: true });
    await mkdir(path.join(dir, 'output'));
    try {
      // Modes spelled out: the sandbox uid must reach these whatever the worker's umask.
      await chmod(dir, 0o755);
      await chmod(path.join(dir, 'submission'), 0o755);
      await writeFile(path.join(dir, 'submission', 'main.py'), 'print(1)\n');
      await chmod(path.join(dir, 'submission', 'main.py'), 0o644);
      await writeFile(path.join(dir, 'config.yaml'), '{}\n');
      const outcome = await this.run(
        {
          jobId,
          submissionDir: path.join(dir, 'submission'),
          outputDir: path.join(dir, 'output'),
          entrypoint: 'main.py',
          configPath: path.join(dir, 'config.yaml'),
          logPath: path.join(dir, 'job.log'),
          env: {},
          limits: { timeoutSeconds: 60, memoryMb: 256, pidsMax: 16 },
        },
        new AbortController().signal,
      );
      const printed = await readFile(path.join(dir, 'job.log'), 'utf8').catch(() => '');
      if (outcome.kind === 'succeeded' && printed !== '1\n') {
        return { kind: 'sandbox_error', message: `expected the job to print 1, it printed ${JSON.stringify(printed)}` };
      }
      return outcome;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

interface PreparedJob {
  owner: { uid: number; gid: number };
  staging: SlotStaging;
  jobFiles: JobFiles;
  relay: MlflowRelay;
  cgroup?: JobCgroup;
  logFd: number;
  /** Size of the log before this run: the tail is read from here. */
  logStart: number;
  cleanup: () => Promise<void>;
}

function listGpuNodes(): string[] {
  return readdirSync('/dev')
    .filter((name) => /^nvidia\d+$/.test(name))
    .map((name) => `/dev/${name}`);
}

async function bwrapVersion(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('bwrap', ['--version'], { env: CHAIN_ENV });
    return stdout.trim().replace(/^bubblewrap /, 'bwrap ');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'bwrap is not installed (Debian package bubblewrap)' : `bwrap --version failed: ${(error as Error).message}`);
  }
}

function describe(outcome: SandboxOutcome): string {
  return outcome.kind === 'sandbox_error' ? outcome.message : JSON.stringify(outcome);
}
