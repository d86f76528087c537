import { loadConfig } from './app-config';

const base = { API_TOKENS: 'alice:alice-token-123' };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env }, { requireTokens: true });

describe('job cap settings', () => {
  it('defaults to 1 GiB / 10 GiB of output, 1 / 2 cores and a 50 MB log', () => {
    const config = load({});
    expect(config.jobOutputMb).toEqual({ small: 1024, medium: 10240 });
    expect(config.jobCpus).toEqual({ small: 1, medium: 2 });
    expect(config.jobLogMb).toBe(50);
  });

  it('reads each from its variable, cores as a decimal', () => {
    const config = load({ JOB_OUTPUT_MB_SMALL: '20', JOB_OUTPUT_MB_MEDIUM: '4096', JOB_CPUS_SMALL: '0.5', JOB_CPUS_MEDIUM: '3.25', JOB_LOG_MB: '2' });
    expect(config.jobOutputMb).toEqual({ small: 20, medium: 4096 });
    expect(config.jobCpus).toEqual({ small: 0.5, medium: 3.25 });
    expect(config.jobLogMb).toBe(2);
  });

  it('refuses what is not a size or a number of cores, saying what it wants', () => {
    expect(() => load({ JOB_OUTPUT_MB_SMALL: '0' })).toThrow('JOB_OUTPUT_MB_SMALL must be a whole number >= 1, got "0"');
    expect(() => load({ JOB_OUTPUT_MB_MEDIUM: '1.5' })).toThrow('JOB_OUTPUT_MB_MEDIUM must be a whole number >= 1, got "1.5"');
    expect(() => load({ JOB_LOG_MB: 'lots' })).toThrow('JOB_LOG_MB must be a whole number >= 1, got "lots"');
    expect(() => load({ JOB_CPUS_SMALL: '0' })).toThrow('JOB_CPUS_SMALL must be a number of CPU cores of at least 0.01, like 0.5 or 2, got "0"');
    expect(() => load({ JOB_CPUS_MEDIUM: '-1' })).toThrow(/JOB_CPUS_MEDIUM must be a number of CPU cores/);
    expect(() => load({ JOB_CPUS_MEDIUM: '2 cores' })).toThrow(/JOB_CPUS_MEDIUM must be a number of CPU cores/);
  });
});
