import { AppConfig, BubblewrapSandboxRunner, BubblewrapScorer, UnsandboxedRunner, UnsandboxedScorer } from '@app/adapters';
import { SandboxRunnerPort, ScorerPort } from '@app/domain';

const MB = 2 ** 20;

/** The bubblewrap runner, or the unsandboxed one when SANDBOX=none was set on purpose. */
export function createSandboxRunner(config: AppConfig): SandboxRunnerPort {
  if (config.sandbox === 'none') {
    return new UnsandboxedRunner({ pythonBin: config.pythonBin, trackingUri: config.mlflowTrackingUri, logMaxBytes: config.jobLogMb * MB });
  }
  return new BubblewrapSandboxRunner({
    pythonBin: config.pythonBin,
    trackingUri: config.mlflowTrackingUri,
    sandboxUidBase: config.sandboxUidBase,
    workDir: config.workerWorkDir,
    logMaxBytes: config.jobLogMb * MB,
  });
}

/** The benchmarks' scorer: in a bubblewrap sandbox of its own (uids above the job slots'), or unsandboxed with SANDBOX=none. */
export function createScorer(config: AppConfig): ScorerPort {
  if (config.sandbox === 'none') return new UnsandboxedScorer({ pythonBin: config.pythonBin });
  return new BubblewrapScorer({
    pythonBin: config.pythonBin,
    sandboxUidBase: config.sandboxUidBase,
    workDir: config.workerWorkDir,
    logMaxBytes: config.jobLogMb * MB,
  });
}
