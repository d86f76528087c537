import { Ranking, ScoreJob } from '@app/domain';
import { InMemoryBenchmarkCatalog } from './in-memory-benchmark-catalog';
import { InMemoryLeaderboard } from './in-memory-leaderboard';
import { ScriptedScorer } from './scripted-scorer';

/** The scoring side of ExecuteJob, all fakes; no benchmarks unless `catalog` has some. */
export function fakeRanking(catalog = new InMemoryBenchmarkCatalog()): Ranking & { scorer: ScriptedScorer; board: InMemoryLeaderboard } {
  const scorer = new ScriptedScorer();
  return { benchmarks: catalog, scoring: new ScoreJob(scorer), board: new InMemoryLeaderboard(), scorer };
}
