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
