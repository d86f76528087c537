import { ClockPort } from '@app/domain';

/** A clock that only moves when told to. */
export class FixedClock extends ClockPort {
  constructor(private current = Date.parse('2026-01-01T00:00:00Z')) {
    super();
  }

  now(): number {
    return this.current;
  }

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }
}
