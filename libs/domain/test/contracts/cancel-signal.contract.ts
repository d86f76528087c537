import { CancelSignalPort } from '@app/domain';

async function eventually(check: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100 && !check(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** What every CancelSignalPort promises: every subscriber hears each cancel until it unsubscribes. */
export function cancelSignalContract(make: () => Promise<CancelSignalPort>): void {
  it('delivers a published cancel to every subscriber', async () => {
    const signal = await make();
    const first: string[] = [];
    const second: string[] = [];
    const stopFirst = await signal.subscribe((jobId) => first.push(jobId));
    const stopSecond = await signal.subscribe((jobId) => second.push(jobId));
    await signal.publish('job-1');
    await eventually(() => first.length === 1 && second.length === 1);
    expect([first, second]).toEqual([['job-1'], ['job-1']]);
    await stopFirst();
    await signal.publish('job-2');
    await eventually(() => second.length === 2);
    expect([first, second]).toEqual([['job-1'], ['job-1', 'job-2']]);
    await stopSecond();
  });
}
