import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { EtcFiles, HostLayout, jobFileContents, readHostLayout } from './bwrap-args';
import { CgroupSupport, detectCgroups, JobCgroup } from './cgroup';
import { findLauncher } from './launcher';
import { ownedGroupName, ownIdentity, ProcessIdentity } from './process-identity';
import { closedFolderMessage, closedFolderOnTheWay, SandboxLayoutError, sandboxWorkDir } from './reachable';
import { SANDBOX_PROCESSES } from './sandbox-chain';
import { hostSeccompFilter } from './seccomp';
import { claimStageRoot, newStageRoot } from './stage-roots';
import { removeStaleCgroups } from './stale-cgroups';

export interface SandboxHostOptions {
  /** The venv's python (<repo>/.venv/bin/python); the venv must be built on a python under /usr. */
  pythonBin: string;
  /** Where each runner keeps its own staging root (stage-<random>/), which workers may share. */
  workDir: string;
  /** Where the cgroup filesystems are mounted (default /sys/fs/cgroup); false: rlimits only. */
  cgroupRoot?: string | false;
  /** Default: python/launcher.py of this checkout. */
  launcherPath?: string;
}

const MB = 2 ** 20;
/** A job id names directories and cgroups: no slash, no leading dot or dash. */
export const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Job slot N runs as uid and gid base + N when the worker is root. */
export const DEFAULT_UID_BASE = 200000;
export type Owner = { uid: number; gid: number };

/**
 * What a bubblewrap runner and a bubblewrap scorer share: the venv, the launcher copy, the host's
 * layout, the cgroup support, the seccomp program, a staging root of their own and the slots in use.
 */
export class SandboxHost {
  /** A root worker drops to a per-slot uid; any other runs everything as itself. */
  readonly dropRoot = process.getuid?.() === 0;
  readonly venvDir: string;
  /** The configured work dir, or the fallback when the configured one is closed to the sandbox's uids. */
  readonly workDir: string;
  /** Why staging is not where configured (for the worker's start line). */
  readonly workDirNote?: string;
  readonly stageRoot: string;
  /** Set when neither the configured work dir nor the fallback can work: ready() refuses with it. */
  private readonly workDirClosed?: string;
  readonly seccomp: Buffer;
  private readonly launcherSource: string;
  private readonly slotsInUse = new Set<number>();
  /** Names this worker's job cgroups, so a worker started after it died can tell they are stale. */
  private readonly identity: ProcessIdentity = ownIdentity();
  private layout?: Promise<HostLayout>;
  private launcher?: Promise<string>;
  private cgroups?: Promise<CgroupSupport>;

  constructor(private readonly options: SandboxHostOptions) {
    this.venvDir = path.dirname(path.dirname(options.pythonBin));
    const where = this.dropRoot ? sandboxWorkDir(options.workDir) : { dir: options.workDir };
    this.workDir = where.dir;
    this.workDirNote = where.note;
    this.workDirClosed = where.closed;
    this.stageRoot = newStageRoot(this.workDir);
    this.launcherSource = options.launcherPath ?? findLauncher();
    this.seccomp = hostSeccompFilter();
  }

  /** The lowest slot no run holds: at most as many as run at once. */
  takeSlot(): number {
    let slot = 0;
    while (this.slotsInUse.has(slot)) slot++;
    this.slotsInUse.add(slot);
    return slot;
  }

  releaseSlot(slot: number): void {
    this.slotsInUse.delete(slot);
  }

  /** The uid and gid `uid` names when the worker is root; the worker's own otherwise. */
  owner(uid: number): Owner {
    if (!this.dropRoot) return { uid: process.getuid!(), gid: process.getgid!() };
    return { uid, gid: uid };
  }

  /**
   * Makes the work dir (0711: a slot's uid walks through to its own dir, it cannot list the others)
   * and this host's staging root; resolves to the launcher copy to bind.
   */
  async ready(): Promise<string> {
    if (this.workDirClosed) throw new SandboxLayoutError(this.workDirClosed);
    const venvClosed = this.dropRoot ? closedFolderOnTheWay(this.venvDir) : undefined;
    if (venvClosed) {
      throw new SandboxLayoutError(closedFolderMessage('the venv', this.venvDir, venvClosed, `chmod o+x ${venvClosed.folder}, or point PYTHON_BIN at a venv outside it (scripts/setup-python.sh with VENV_DIR)`));
    }
    const created = await mkdir(this.workDir, { recursive: true });
    if (created !== undefined) await chmod(this.workDir, 0o711);
    await claimStageRoot(this.stageRoot);
    this.launcher ??= this.copyLauncher();
    return this.launcher;
  }

  hostLayout(): Promise<HostLayout> {
    this.layout ??= readHostLayout();
    return this.layout;
  }

  cgroupSupport(): Promise<CgroupSupport> {
    const root = this.options.cgroupRoot ?? '/sys/fs/cgroup';
    this.cgroups ??= root === false || !this.dropRoot
      ? Promise.resolve({ version: 'none', reason: root === false ? 'disabled by configuration' : 'the worker is not root' })
      : detectCgroups(root);
    return this.cgroups;
  }

  /** A cgroup for one run, or undefined where only rlimits are available. */
  async createCgroup(name: string, limits: { memoryMb: number; pidsMax: number; cpus?: number }): Promise<JobCgroup | undefined> {
    const support = await this.cgroupSupport();
    if (support.version === 'none') return undefined;
    return JobCgroup.create(support, ownedGroupName(this.identity, name), { memoryBytes: limits.memoryMb * MB, pidsMax: limits.pidsMax + SANDBOX_PROCESSES, cpus: limits.cpus });
  }

  /** Kills and removes the job cgroups dead workers of this host left; the names removed. */
  async removeStaleCgroups(): Promise<string[]> {
    const support = await this.cgroupSupport();
    if (support.version === 'none') return [];
    return removeStaleCgroups(this.options.cgroupRoot || '/sys/fs/cgroup', this.identity);
  }

  /**
   * bwrap opens bind sources as the sandbox uid, which may not reach the checkout (a clone under
   * /root, say); the staging root it must reach anyway, so the launcher is bound from a copy there
   * (one per root: a copy shared by runners could be rewritten while another binds it).
   */
  private async copyLauncher(): Promise<string> {
    const copy = path.join(this.stageRoot, 'launcher.py');
    await copyFile(this.launcherSource, copy);
    await chmod(copy, 0o644);
    return copy;
  }
}

/** Writes the generated /etc files into `dir` (0444 each). */
export async function writeEtcFiles(dir: string, owner: Owner, trackingHost?: string, user?: string): Promise<EtcFiles> {
  const contents = jobFileContents(owner.uid, owner.gid, trackingHost, user);
  const files = {} as EtcFiles;
  for (const [name, text] of Object.entries(contents) as [keyof EtcFiles, string][]) {
    files[name] = path.join(dir, name);
    await writeFile(files[name], text, { mode: 0o444 });
  }
  return files;
}
