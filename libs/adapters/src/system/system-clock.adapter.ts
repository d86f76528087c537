import { ClockPort } from '@app/domain';

export class SystemClockAdapter extends ClockPort {
  now(): number {
    return Date.now();
  }
}
