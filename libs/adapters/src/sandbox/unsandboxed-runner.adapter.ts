import { SandboxOutcome, SandboxRequest, SandboxRunnerPort } from '@app/domain';
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { sandboxEnv } from './bwrap-args';
import { findLauncher, launcherCommand } from './launcher';
import { runUnsandboxed } from './unsandboxed-chain';

export interface UnsandboxedOptions {
  /** The venv's python. */
  pythonBin: string;
  /** MLflow as the job sees it: there is no relay, the job reaches it directly. */
  trackingUri: string;
  /** Default: python/launcher.py of this checkout. */
  launcherPath?: string;
  /** JOB_LOG_MB: what one run may add to its log (default 50 MiB). No output, /tmp or CPU cap without a sandbox. */
  logMaxBytes?: number;
}

/**
 * SANDBOX=none: the same launcher, run as the worker's own user with no isolation at all. It gets
 * a scrubbed environment, its own session (the group dies on timeout or abort) and rlimits; a
 * child that leaves the session, the filesystem and the network are NOT contained. The worker says
 * so loudly; this class logs nothing.
 */
export class UnsandboxedRunner extends SandboxRunnerPort {
  private readonly launcherPath: string;

  constructor(private readonly options: UnsandboxedOptions) {
    super();
    this.launcherPath = options.launcherPath ?? findLauncher();
  }

  async run(request: SandboxRequest, abort: AbortSignal): Promise<SandboxOutcome> {
    if (abort.aborted) return { kind: 'aborted' };
    const { limits } = request;
    const home = await mkdtemp(path.join(tmpdir(), 'leadersboard-job-'));
    const log = await open(request.logPath, 'a');
    try {
      const logStart = (await log.stat()).size;
      const env = {
        ...sandboxEnv({
          requestEnv: request.env,
          trackingUri: this.options.trackingUri,
          cudaVisibleDevices: request.gpu,
          // No sandbox, no staging: the benchmark's public data where it is.
          dataDir: request.dataDir,
          home,
          path: `${path.dirname(this.options.pythonBin)}:/usr/local/bin:/usr/bin:/bin`,
        }),
        TMPDIR: home,
      };
      return await runUnsandboxed({
        command: launcherCommand({
          python: this.options.pythonBin,
          launcher: this.launcherPath,
          entrypoint: request.entrypoint,
          args: { config: request.configPath, output: request.outputDir },
        }),
        env,
        cwd: request.submissionDir,
        limits,
        log: { path: request.logPath, fd: log.fd, start: logStart, maxBytes: this.options.logMaxBytes },
        abort,
      });
    } finally {
      await log.close();
      await rm(home, { recursive: true, force: true });
    }
  }

  async selfCheck(): Promise<string> {
    const { stdout } = await promisify(execFile)(this.options.pythonBin, ['-c', 'import sys; print(sys.version.split()[0])'], { env: {} });
    return `no sandbox (SANDBOX=none): python ${stdout.trim()} as uid ${process.getuid?.()}, rlimits only`;
  }
}
