import { existsSync } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import * as path from 'node:path';

/** Where things appear inside the sandbox; user code sees only these paths. */
export const INSIDE = {
  venv: '/venv',
  launcher: '/launcher.py',
  submission: '/submission',
  output: '/output',
  relaySocket: '/run/mlflow.sock',
  tmp: '/tmp',
  /** A benchmark's public data, on jobs that run on one. */
  data: '/data',
} as const;

/** PATH inside: the venv first. */
export const INSIDE_PATH = `${INSIDE.venv}/bin:/usr/local/bin:/usr/bin:/bin`;

/** What a scorer sees: its program, the job's predictions and the hidden reference, read-only; its own output. */
export const SCORER_INSIDE = {
  dir: '/scorer',
  program: '/scorer/score.py',
  predictions: '/predictions',
  reference: '/reference',
  output: '/output',
} as const;

/** RLIMIT_NOFILE of every job, soft and hard: enough for numpy, MLflow and a thread pool, not for fd exhaustion games. */
export const JOB_OPEN_FILES = 1024;

/** The top-level host entries Python needs besides /usr, as they are on this host. */
export interface HostLayout {
  /** `/lib` -> `usr/lib` on merged-/usr hosts; a `target` of undefined means a real directory. */
  roots: { path: string; target?: string }[];
}

const ROOT_ENTRIES = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Host /etc files Python may read that say nothing about the host: the linker cache and the zone. */
const HOST_ETC = ['/etc/ld.so.cache', '/etc/localtime'];

export async function readHostLayout(): Promise<HostLayout> {
  const roots: HostLayout['roots'] = [];
  for (const entry of ROOT_ENTRIES) {
    const stats = await lstat(entry).catch(() => undefined);
    if (stats?.isSymbolicLink()) roots.push({ path: entry, target: await readlink(entry) });
    else if (stats?.isDirectory()) roots.push({ path: entry });
  }
  return { roots };
}

/** Files generated per run on the host and bound read-only over the sandbox's empty /etc. */
export interface EtcFiles {
  passwd: string;
  group: string;
  hosts: string;
  nsswitch: string;
}

export interface JobFiles extends EtcFiles {
  /** Copy of the effective config. */
  config: string;
}

/** A host path bound into the sandbox, read-only unless `writable`. */
export interface Mount {
  source: string;
  target: string;
  writable?: boolean;
}

export interface BwrapPlan {
  layout: HostLayout;
  venvDir: string;
  launcherPath: string;
  etcFiles: EtcFiles;
  /** What this kind of run sees besides the system, in order (see jobMounts, scorer's). */
  mounts: Mount[];
  /** The working directory inside. */
  chdir: string;
  /** The complete environment of the code run (see sandboxEnv). */
  env: Record<string, string>;
  /** Size cap of /tmp and /dev/shm. */
  tmpBytes: number;
  /** Device nodes to pass through (see gpuAccess). */
  devices: string[];
}

export interface JobMountPlan {
  submissionDir: string;
  outputDir: string;
  configPath: string;
  /** Host end of the MLflow relay; absent: no relay. */
  relaySocket?: string;
  /** A benchmark's staged public data; absent: no /data. */
  dataDir?: string;
}

/** A job's view: its submission read-only as the working dir, /output writable, the config, the relay, /data. */
export function jobMounts(plan: JobMountPlan): Mount[] {
  const mounts: Mount[] = [
    { source: plan.submissionDir, target: INSIDE.submission },
    { source: plan.outputDir, target: INSIDE.output, writable: true },
    { source: plan.configPath, target: insideConfigPath(plan.configPath) },
  ];
  if (plan.dataDir) mounts.push({ source: plan.dataDir, target: INSIDE.data });
  if (plan.relaySocket) mounts.push({ source: plan.relaySocket, target: INSIDE.relaySocket, writable: true });
  return mounts;
}

export interface ScorerMountPlan {
  programDir: string;
  predictionsDir: string;
  referenceDir: string;
  outputDir: string;
}

/** A scorer's view: its program, the predictions and the reference read-only; only its own /output writable. */
export function scorerMounts(plan: ScorerMountPlan): Mount[] {
  return [
    { source: plan.programDir, target: SCORER_INSIDE.dir },
    { source: plan.predictionsDir, target: SCORER_INSIDE.predictions },
    { source: plan.referenceDir, target: SCORER_INSIDE.reference },
    { source: plan.outputDir, target: SCORER_INSIDE.output, writable: true },
  ];
}

/** Options for `bwrap --args FD`: passed through a pipe so /proc/1/cmdline inside shows none of them. */
export function bwrapArgs(plan: BwrapPlan): string[] {
  const args = [
    // New user, pid, net, ipc, uts and cgroup namespaces; no --share-net: no route out.
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    // The launcher is pid 1: bwrap's own reaper would report the exit through an eventfd the job could reach.
    '--as-pid-1',
    '--cap-drop', 'ALL',
    '--hostname', 'sandbox',
    '--ro-bind', '/usr', '/usr',
  ];
  for (const root of plan.layout.roots) {
    if (root.target !== undefined) args.push('--symlink', root.target, root.path);
    else args.push('--ro-bind', root.path, root.path);
  }
  for (const file of HOST_ETC) args.push('--ro-bind-try', file, file);
  args.push(
    '--ro-bind', plan.etcFiles.passwd, '/etc/passwd',
    '--ro-bind', plan.etcFiles.group, '/etc/group',
    '--ro-bind', plan.etcFiles.hosts, '/etc/hosts',
    '--ro-bind', plan.etcFiles.nsswitch, '/etc/nsswitch.conf',
    '--proc', '/proc',
    '--dev', '/dev',
    '--size', String(plan.tmpBytes), '--tmpfs', '/dev/shm',
  );
  for (const device of plan.devices) args.push('--dev-bind', device, device);
  args.push(
    '--size', String(plan.tmpBytes), '--tmpfs', INSIDE.tmp,
    '--ro-bind', plan.venvDir, INSIDE.venv,
    '--ro-bind', plan.launcherPath, INSIDE.launcher,
  );
  for (const mount of plan.mounts) args.push(mount.writable ? '--bind' : '--ro-bind', mount.source, mount.target);
  args.push(
    '--chdir', plan.chdir,
    // The root and /dev are tmpfs mounts without a size cap: nothing may be written there.
    '--remount-ro', '/dev',
    '--remount-ro', '/',
    '--clearenv',
  );
  for (const [name, value] of Object.entries(plan.env)) args.push('--setenv', name, value);
  return args;
}

/** The config keeps its extension, so code that looks at it still can. */
export function insideConfigPath(hostConfig: string): string {
  return `/config${path.extname(hostConfig) || '.yaml'}`;
}

export interface SandboxEnvInput {
  /** The request's variables (MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID, ...). */
  requestEnv: Record<string, string>;
  /** What MLFLOW_TRACKING_URI says inside; absent (a scorer): no MLFLOW_* variable at all. */
  trackingUri?: string;
  /** LEADERBOARD_DATA_DIR: where a benchmark's public data is, for jobs on one. */
  dataDir?: string;
  /** CUDA_VISIBLE_DEVICES, when a GPU is passed through. */
  cudaVisibleDevices?: string;
  home: string;
  path: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The allow-list: the request's variables, then ours, which win. Nothing from the worker's own environment. */
export function sandboxEnv(input: SandboxEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.requestEnv)) {
    if (!ENV_NAME.test(name)) throw new Error(`environment variable name "${name}" is not valid`);
    env[name] = value;
  }
  Object.assign(env, {
    PATH: input.path,
    HOME: input.home,
    LANG: 'C.UTF-8',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    MPLCONFIGDIR: input.home,
  });
  if (input.trackingUri !== undefined) {
    env.MLFLOW_TRACKING_URI = input.trackingUri;
    // The sandbox has no route out; usage telemetry would only time out.
    env.MLFLOW_DISABLE_TELEMETRY = 'true';
  }
  if (input.dataDir !== undefined) env.LEADERBOARD_DATA_DIR = input.dataDir;
  if (input.cudaVisibleDevices !== undefined) env.CUDA_VISIBLE_DEVICES = input.cudaVisibleDevices;
  return env;
}

/** NVIDIA nodes every CUDA process opens, whichever GPU it uses. */
export const NVIDIA_SHARED_NODES = ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools'];

export interface GpuAccess {
  devices: string[];
  cudaVisibleDevices?: string;
}

/**
 * Device nodes and CUDA_VISIBLE_DEVICES for one GPU. An index passes only /dev/nvidia{index}: CUDA
 * then sees that one GPU, as device 0. A UUID (GPU-..., MIG-...) needs every GPU node, and CUDA
 * picks by UUID. Nodes missing on this host are left out.
 */
export function gpuAccess(
  gpu: string | undefined,
  sharedNodes: string[],
  exists: (node: string) => boolean = existsSync,
  listGpuNodes: () => string[] = () => [],
): GpuAccess {
  if (gpu === undefined) return { devices: [] };
  if (/^\d+$/.test(gpu)) {
    return { devices: [...sharedNodes, `/dev/nvidia${gpu}`].filter(exists), cudaVisibleDevices: '0' };
  }
  if (!/^[A-Za-z0-9-]+(\/[0-9]+)*$/.test(gpu)) throw new Error(`GPU id "${gpu}" is neither an index nor a UUID`);
  return { devices: [...sharedNodes, ...listGpuNodes()].filter(exists), cudaVisibleDevices: gpu };
}

/** Drops root before bwrap runs, so bwrap builds the sandbox as an ordinary user, not a privileged one. */
export function setprivArgs(uid: number, gid: number): string[] {
  return [
    'setpriv',
    `--reuid=${uid}`,
    `--regid=${gid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
  ];
}

/** Files the sandbox's /etc gets, so Python can name its user and resolve the tracking host (if any). */
export function jobFileContents(uid: number, gid: number, trackingHost?: string, user = 'job'): Record<keyof EtcFiles, string> {
  const hosts = ['127.0.0.1 localhost'];
  if (trackingHost !== undefined && trackingHost !== 'localhost' && !isIP(trackingHost)) hosts.push(`127.0.0.1 ${trackingHost}`);
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\n${user}:x:${uid}:${gid}:LeadersBoard ${user}:/tmp:/usr/sbin/nologin\n`,
    group: `root:x:0:\n${user}:x:${gid}:\n`,
    hosts: `${hosts.join('\n')}\n`,
    nsswitch: 'passwd: files\ngroup: files\nhosts: files\n',
  };
}
