import { Unavailable } from '@app/domain';
import { trackingContract } from '../contracts/tracking.contract';
import { InMemoryTracking } from './in-memory-tracking';

describe('InMemoryTracking', () => {
  trackingContract(async () => new InMemoryTracking());

  it('raises Unavailable while it simulates an outage', async () => {
    const tracking = new InMemoryTracking();
    tracking.unavailable = true;
    await expect(tracking.startRun('exp', 'run', {})).rejects.toBeInstanceOf(Unavailable);
  });
});
