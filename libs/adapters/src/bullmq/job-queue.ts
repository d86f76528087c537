/** The one BullMQ queue: the API adds to it, workers consume it. */
export const JOB_QUEUE_NAME = 'jobs';

/** BullMQ keys live under our own prefix, so tests and side-by-side stacks do not mix. */
export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}:bull`;
}
