import { leaderboardContract } from '../contracts/leaderboard.contract';
import { InMemoryLeaderboard } from './in-memory-leaderboard';

describe('InMemoryLeaderboard', () => leaderboardContract(async () => new InMemoryLeaderboard()));
