import { IdPort } from '@app/domain';

/** Readable ids for unit tests: sub-1, sub-2, ... and derived ids that are the joined parts. */
export class SequentialIds extends IdPort {
  private count = 0;

  random(): string {
    this.count += 1;
    return `sub-${this.count}`;
  }

  derive(parts: string[]): string {
    return `job-${parts.map((part) => `${part.length}:${part}`).join('|')}`;
  }
}
