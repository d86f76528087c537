import { ResourceClass } from './job';

/** Wall time, memory, process count, CPU and disk for one run. */
export interface RunLimits {
  timeoutSeconds: number;
  memoryMb: number;
  pidsMax: number;
  /** CPU quota in cores (0.5: half of one core over time); absent: no quota. The worker's config always sets it. */
  cpus?: number;
  /** What /output may hold, and the size of /tmp; absent: not capped. The worker's config always sets it. */
  outputMb?: number;
}

export type LimitsByClass = Record<ResourceClass, RunLimits>;

/** 8192 -> "8 GiB", 300 -> "300 MiB": how limits read in error messages. */
export function formatMemory(megabytes: number): string {
  return megabytes % 1024 === 0 ? `${megabytes / 1024} GiB` : `${megabytes} MiB`;
}
