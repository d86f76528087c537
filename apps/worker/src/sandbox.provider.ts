import { AppConfig, BubblewrapSandboxRunner, UnsandboxedRunner } from '@app/adapters';
import { SandboxRunnerPort } from '@app/domain';

/** The bubblewrap runner, or the unsandboxed one when SANDBOX=none was set on purpose. */
export function createSandboxRunner(config: AppConfig): SandboxRunnerPort {
  if (config.sandbox === 'none') {
    return new UnsandboxedRunner({ pythonBin: config.pythonBin, trackingUri: config.mlflowTrackingUri });
  }
  return new BubblewrapSandboxRunner({
    pythonBin: config.pythonBin,
    trackingUri: config.mlflowTrackingUri,
    sandboxUidBase: config.sandboxUidBase,
    workDir: config.workerWorkDir,
  });
}
