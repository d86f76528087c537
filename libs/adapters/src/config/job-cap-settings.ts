import { ConfigError } from './config-error';
import { Env, readInt } from './env-readers';

export interface JobCapSettings {
  /** JOB_OUTPUT_MB_SMALL/_MEDIUM: what /output may hold per resource class; /tmp gets the same size (at most the memory). */
  jobOutputMb: { small: number; medium: number };
  /** JOB_CPUS_SMALL/_MEDIUM: CPU quota per resource class, in cores (decimals allowed). */
  jobCpus: { small: number; medium: number };
  /** JOB_LOG_MB: what one run may leave in its log on disk; the rest is dropped after a marker line. */
  jobLogMb: number;
}

/** The caps on what one job may take from the host besides memory and processes: disk for output and log, CPU. */
export function readJobCapSettings(env: Env): JobCapSettings {
  return {
    jobOutputMb: {
      small: readInt(env, 'JOB_OUTPUT_MB_SMALL', 1024),
      medium: readInt(env, 'JOB_OUTPUT_MB_MEDIUM', 10240),
    },
    jobCpus: {
      small: readCpus(env, 'JOB_CPUS_SMALL', 1),
      medium: readCpus(env, 'JOB_CPUS_MEDIUM', 2),
    },
    jobLogMb: readInt(env, 'JOB_LOG_MB', 50),
  };
}

/** Cores as a decimal (0.5, 2, 1.25): at least 0.01, the quota the kernel can still apply (1 ms per 100 ms). */
function readCpus(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) < 0.01) {
    throw new ConfigError(`${name} must be a number of CPU cores of at least 0.01, like 0.5 or 2, got "${raw}"`);
  }
  return Number(raw);
}
