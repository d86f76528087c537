import { sandboxContract } from '../contracts/sandbox.contract';
import { ScriptedSandbox } from './scripted-sandbox';

describe('ScriptedSandbox', () =>
  sandboxContract(async () => {
    const sandbox = new ScriptedSandbox();
    return {
      sandbox,
      request: async (program, timeoutSeconds = 30) => ({
        jobId: 'job-1',
        submissionDir: 'memory://sub',
        outputDir: 'memory://out',
        entrypoint: `${program}.py`,
        configPath: 'memory://config.yaml',
        logPath: `memory://logs/${program}`,
        env: {},
        limits: { timeoutSeconds, memoryMb: 256, pidsMax: 64 },
      }),
      readLog: async (request) => sandbox.logs.get(request.logPath) ?? '',
    };
  }));
