import { describeFailure } from '../../src/use-cases/describe-failure';

describe('describeFailure', () => {
  it('names each cap a run went over with its value', () => {
    expect(describeFailure({ kind: 'output_limit', limitMb: 1024 })).toBe('output limit exceeded (1024 MB)');
    expect(describeFailure({ kind: 'out_of_memory', limitMb: 8192 })).toBe('out of memory (limit 8 GiB)');
    expect(describeFailure({ kind: 'process_limit', pidsMax: 64 })).toBe('process limit reached (at most 64 processes)');
    expect(describeFailure({ kind: 'timeout', seconds: 30 })).toBe('timeout after 30 s');
  });
});
