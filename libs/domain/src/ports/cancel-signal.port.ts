/** Tells every worker that a job was cancelled, whichever one runs it. */
export abstract class CancelSignalPort {
  abstract publish(jobId: string): Promise<void>;
  /** Calls `handler` with each cancelled job id until the returned function is called. */
  abstract subscribe(handler: (jobId: string) => void): Promise<() => Promise<void>>;
}
