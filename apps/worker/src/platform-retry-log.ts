import { Logger } from '@nestjs/common';
import { PlatformRetry } from '@app/domain';

const logger = new Logger('PlatformFaults');

/** One line per in-process retry of a finishing write: which job, which service, which try, how long until the next. */
export function logPlatformRetry(retry: PlatformRetry): void {
  if (retry.gaveUp) {
    logger.error(`job ${retry.jobId}: gave up trying to ${retry.step} after ${retry.attempt} attempts: ${retry.service} unavailable (${retry.reason}); the job's record keeps its outcome`);
    return;
  }
  logger.warn(`job ${retry.jobId}: ${retry.service} unavailable while trying to ${retry.step} (${retry.reason}); attempt ${retry.attempt}, next in ${retry.delayMs} ms`);
}

/**
 * Quiets a message that repeats: during a Redis outage the queue connection reports each failed
 * reconnect (several a second); one line per message per `quietMs` says the same, with a count.
 */
export class RepeatFilter {
  private last = { message: '', at: 0, repeats: 0 };

  constructor(private readonly quietMs = 30_000) {}

  /** The line to log now, or undefined for a repeat within the quiet period. */
  pass(message: string, now = Date.now()): string | undefined {
    if (message === this.last.message && now - this.last.at < this.quietMs) {
      this.last.repeats += 1;
      return undefined;
    }
    const repeats = this.last.repeats;
    this.last = { message, at: now, repeats: 0 };
    return repeats > 0 ? `${message} (the line before repeated ${repeats} more times)` : message;
  }
}
