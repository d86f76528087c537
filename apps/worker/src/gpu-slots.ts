/** Hands each concurrent run its own GPU id; with no GPUs configured every run gets none. */
export class GpuSlots {
  private readonly free: string[];

  constructor(gpus: string[]) {
    this.free = [...gpus];
  }

  take(): string | undefined {
    return this.free.shift();
  }

  give(gpu: string | undefined): void {
    if (gpu !== undefined) this.free.push(gpu);
  }
}
