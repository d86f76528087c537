import { ResourceClass } from './job';

/** Wall time, memory and process count for one run. */
export interface RunLimits {
  timeoutSeconds: number;
  memoryMb: number;
  pidsMax: number;
}

export type LimitsByClass = Record<ResourceClass, RunLimits>;

/** 8192 -> "8 GiB", 300 -> "300 MiB": how limits read in error messages. */
export function formatMemory(megabytes: number): string {
  return megabytes % 1024 === 0 ? `${megabytes / 1024} GiB` : `${megabytes} MiB`;
}
