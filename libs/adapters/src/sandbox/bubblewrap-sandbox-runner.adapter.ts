import { SandboxOutcome, SandboxRequest, SandboxRunnerPort } from '@app/domain';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { bwrapArgs, gpuAccess, INSIDE, INSIDE_PATH, insideConfigPath, JobFiles, jobMounts, NVIDIA_SHARED_NODES, sandboxEnv } from './bwrap-args';
import { DEFAULT_LOG_MB } from './capped-log';
import { cgroupControllers, JobCgroup } from './cgroup';
import { launcherCommand } from './launcher';
import { MlflowRelay, RelayAddress, relayAddress } from './mlflow-relay';
import { CappedOutput, detectOutputDiskMode, mountCappedOutput, OutputDiskMode, pollCappedOutput, unmountBelow } from './output-disk';
import { CHAIN_ENV, runSandboxed } from './sandbox-chain';
import { DEFAULT_UID_BASE, JOB_ID, Owner, SandboxHost, writeEtcFiles } from './sandbox-host';
import { SlotStaging } from './slot-staging';
import { removeStaleStageRoots } from './stage-roots';

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
  /** JOB_LOG_MB: what one run may add to its log; the rest is dropped after a marker line (default 50 MiB). */
  logMaxBytes?: number;
  /** True: cap /output by polling even where a filesystem per run could be mounted (hosts short of loop devices). */
  pollOutput?: boolean;
}

const MB = 2 ** 20;

/**
 * Runs each job in bubblewrap (see runSandboxed for the chain): new user, pid, net, ipc, uts and cgroup
 * namespaces; /usr, the venv and the submission read-only; /output writable; a benchmark's public data
 * read-only at /data; nothing else of the host. The job reaches MLflow only through its relay.
 */
export class BubblewrapSandboxRunner extends SandboxRunnerPort {
  private readonly uidBase: number;
  private readonly host: SandboxHost;
  private readonly tracking: RelayAddress;
  private outputMode?: Promise<OutputDiskMode>;

  constructor(private readonly options: BubblewrapSandboxOptions) {
    super();
    this.uidBase = options.sandboxUidBase ?? DEFAULT_UID_BASE;
    this.host = new SandboxHost(options);
    this.tracking = relayAddress(options.trackingUri);
  }

  async run(request: SandboxRequest, abort: AbortSignal): Promise<SandboxOutcome> {
    if (abort.aborted) return { kind: 'aborted' };
    const slot = this.host.takeSlot();
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
      this.host.releaseSlot(slot);
    }
  }

  async selfCheck(): Promise<string> {
    const version = await bwrapVersion();
    await checkVenv(this.host.venvDir);
    // Once per worker start: what workers killed mid-job left behind on this host.
    const stale = await removeStaleStageRoots(this.host.workDir);
    const staleGroups = await this.host.removeStaleCgroups();
    const outcome = await this.trialRun();
    if (outcome.kind !== 'succeeded') throw new Error(`a trivial sandboxed python did not run: ${describe(outcome)}`);
    const support = await this.host.cgroupSupport();
    const limits = support.version === 'none' ? `rlimits only, no CPU quota (${support.reason})` : `cgroup v${support.version} (${cgroupControllers(support)})`;
    const mode = await this.outputDiskMode();
    const output = mode.kind === 'filesystem' ? 'output capped by a filesystem per run' : `output capped by polling (${mode.reason})`;
    const uids = this.host.dropRoot ? `uid ${this.uidBase}+slot` : `uid ${process.getuid!()}`;
    const cleaned = [
      ...(stale.length > 0 ? [`removed ${stale.length} staging dir(s) of dead workers`] : []),
      ...(staleGroups.length > 0 ? [`killed and removed ${staleGroups.length} job cgroup(s) of dead workers`] : []),
    ].map((note) => `, ${note}`).join('');
    const staging = this.host.workDirNote ? `, ${this.host.workDirNote}` : '';
    return `${version}, ${uids}, seccomp, ${limits}, ${output}${cleaned}${staging}`;
  }

  private async prepare(request: SandboxRequest, slot: number): Promise<PreparedJob> {
    if (!JOB_ID.test(request.jobId)) throw new Error(`job id "${request.jobId}" cannot name a directory`);
    const cleanups: (() => Promise<unknown>)[] = [];
    const cleanup = async () => {
      for (const step of [...cleanups].reverse()) await step().catch(() => undefined);
    };
    const owner = this.host.owner(this.uidBase + slot);
    try {
      const launcher = await this.host.ready();
      const slotDir = path.join(this.host.stageRoot, `slot-${slot}`);
      // A run whose cleanup failed may have left its output filesystem mounted there.
      if ((await this.outputDiskMode()).kind === 'filesystem') await unmountBelow(slotDir);
      const staging = await SlotStaging.create(this.host.stageRoot, slot, this.host.dropRoot ? owner : undefined);
      cleanups.push(() => staging.remove());
      const output = await this.capOutput(staging.output, slot, request.limits.outputMb, owner);
      if (output) cleanups.push(() => output.release());
      // Whatever the run ends like, what it wrote goes where the platform keeps it.
      cleanups.push(() => staging.collectOutput(request.outputDir));
      await staging.stageSubmission(request.submissionDir);
      if (request.dataDir !== undefined) await staging.stageData(request.dataDir);
      const jobFiles = await this.writeJobFiles(staging, request.configPath, owner);
      const scope = { runId: request.env.MLFLOW_RUN_ID ?? '', experimentId: request.env.MLFLOW_EXPERIMENT_ID ?? '' };
      const relay = await MlflowRelay.start(path.join(staging.dir, 'mlflow.sock'), this.tracking.target, scope, owner);
      cleanups.push(() => relay.close());
      const cgroup = await this.host.createCgroup(request.jobId, request.limits);
      if (cgroup) cleanups.push(() => cgroup.remove());
      const log = await open(request.logPath, 'a');
      cleanups.push(() => log.close());
      const logStart = (await log.stat()).size;
      return { owner, launcher, staging, output, jobFiles, relay, cgroup, logFd: log.fd, logStart, cleanup };
    } catch (error) {
      await cleanup();
      throw error;
    }
  }

  private async execute(request: SandboxRequest, abort: AbortSignal, job: PreparedJob): Promise<SandboxOutcome> {
    const { limits } = request;
    const gpu = gpuAccess(request.gpu, this.options.gpuDevices ?? NVIDIA_SHARED_NODES, undefined, listGpuNodes);
    const hasData = request.dataDir !== undefined;
    const env = sandboxEnv({
      requestEnv: request.env,
      trackingUri: this.tracking.insideUri,
      cudaVisibleDevices: gpu.cudaVisibleDevices,
      dataDir: hasData ? INSIDE.data : undefined,
      home: INSIDE.tmp,
      path: INSIDE_PATH,
    });
    const options = bwrapArgs({
      layout: await this.host.hostLayout(),
      venvDir: this.host.venvDir,
      launcherPath: job.launcher,
      etcFiles: job.jobFiles,
      mounts: jobMounts({
        submissionDir: job.staging.submission,
        outputDir: job.staging.output,
        configPath: job.jobFiles.config,
        relaySocket: job.relay.socketPath,
        dataDir: hasData ? job.staging.data : undefined,
      }),
      chdir: INSIDE.submission,
      env,
      // /tmp is a tmpfs, memory: the output cap, but never more than the run's memory.
      tmpBytes: Math.min(limits.memoryMb, limits.outputMb ?? 1024) * MB,
      devices: gpu.devices,
    });
    return runSandboxed({
      bwrapOptions: options,
      command: launcherCommand({
        python: `${INSIDE.venv}/bin/python`,
        launcher: INSIDE.launcher,
        entrypoint: request.entrypoint,
        args: { config: insideConfigPath(job.jobFiles.config), output: INSIDE.output },
        relay: { socket: INSIDE.relaySocket, port: this.tracking.target.port },
      }),
      owner: this.host.dropRoot ? job.owner : undefined,
      cgroup: job.cgroup,
      limits,
      seccomp: this.host.seccomp,
      log: { path: request.logPath, fd: job.logFd, start: job.logStart, maxBytes: this.options.logMaxBytes ?? DEFAULT_LOG_MB * MB },
      output: job.output,
      abort,
    });
  }

  private outputDiskMode(): Promise<OutputDiskMode> {
    this.outputMode ??= this.options.pollOutput
      ? Promise.resolve({ kind: 'polled', reason: 'chosen by configuration' })
      : this.host.ready().then(() => detectOutputDiskMode(this.host.stageRoot, this.host.dropRoot));
    return this.outputMode;
  }

  /** /output under the run's cap: a filesystem of its own where the host allows, else a watched folder. */
  private async capOutput(dir: string, slot: number, limitMb: number | undefined, owner: Owner): Promise<CappedOutput | undefined> {
    if (limitMb === undefined) return undefined;
    if ((await this.outputDiskMode()).kind === 'polled') return pollCappedOutput(dir, limitMb);
    // The image sits in the staging root (root's, 0711), outside anything bound into the sandbox.
    // A host out of loop devices (or disk for the image) does not fail the user's job: this run is polled.
    return mountCappedOutput(dir, limitMb, owner, path.join(this.host.stageRoot, `output-${slot}.img`)).catch(() => pollCappedOutput(dir, limitMb));
  }

  private async writeJobFiles(staging: SlotStaging, configPath: string, owner: Owner): Promise<JobFiles> {
    const etc = await writeEtcFiles(staging.etc, owner, this.tracking.insideHost);
    // A copy: the sandbox uid may not be able to reach the worker's own file.
    const config = path.join(staging.dir, `config${path.extname(configPath) || '.yaml'}`);
    await copyFile(configPath, config);
    await chmod(config, 0o444);
    return { ...etc, config };
  }

  private async trialRun(): Promise<SandboxOutcome> {
    const jobId = `selfcheck-${randomUUID().slice(0, 8)}`;
    // In the staging root: a worker killed during the check leaves it where the next one removes it.
    const dir = path.join(this.host.stageRoot, `${jobId}-files`);
    await this.host.ready();
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
          limits: { timeoutSeconds: 60, memoryMb: 256, pidsMax: 16, cpus: 1, outputMb: 8 },
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
  owner: Owner;
  /** The launcher copy bwrap binds. */
  launcher: string;
  staging: SlotStaging;
  /** The cap on /output, when the request has one. */
  output?: CappedOutput;
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

export async function bwrapVersion(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('bwrap', ['--version'], { env: CHAIN_ENV });
    return stdout.trim().replace(/^bubblewrap /, 'bwrap ');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'bwrap is not installed (Debian package bubblewrap)' : `bwrap --version failed: ${(error as Error).message}`);
  }
}

/** The venv must be a virtualenv built on a python under /usr, the only host python the sandbox sees. */
export async function checkVenv(venvDir: string): Promise<void> {
  const home = (await readFile(path.join(venvDir, 'pyvenv.cfg'), 'utf8').catch(() => '')).match(/^home = (.*)$/m)?.[1];
  if (!home) throw new Error(`${venvDir} is not a virtualenv (no pyvenv.cfg); run scripts/setup-python.sh`);
  if (!home.startsWith('/usr/')) {
    throw new Error(`the venv ${venvDir} is built on ${home}, which the sandbox cannot see; rebuild it on /usr/bin/python3.11 (scripts/setup-python.sh)`);
  }
}

function describe(outcome: SandboxOutcome): string {
  return outcome.kind === 'sandbox_error' ? outcome.message : JSON.stringify(outcome);
}
