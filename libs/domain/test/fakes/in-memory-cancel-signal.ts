import { CancelSignalPort } from '@app/domain';

/** Pub/sub in one process. */
export class InMemoryCancelSignal extends CancelSignalPort {
  private readonly handlers = new Set<(jobId: string) => void>();

  async publish(jobId: string): Promise<void> {
    for (const handler of [...this.handlers]) queueMicrotask(() => handler(jobId));
  }

  async subscribe(handler: (jobId: string) => void): Promise<() => Promise<void>> {
    const own = (jobId: string) => handler(jobId);
    this.handlers.add(own);
    return async () => {
      this.handlers.delete(own);
    };
  }
}
