import { jobQueueContract } from '../contracts/job-queue.contract';
import { InMemoryJobQueue } from './in-memory-job-queue';

describe('InMemoryJobQueue', () => jobQueueContract(async () => new InMemoryJobQueue()));
