import { jobStatusContract } from '../contracts/job-status.contract';
import { InMemoryJobStatus } from './in-memory-job-status';

describe('InMemoryJobStatus', () => jobStatusContract(async () => new InMemoryJobStatus()));
