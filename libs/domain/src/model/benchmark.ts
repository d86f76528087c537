/** A benchmark's id is its folder name: lowercase letters, digits and dashes. */
export const BENCHMARK_ID = /^[a-z0-9-]{1,64}$/;

export const RANK_ORDERS = ['asc', 'desc'] as const;
/** `desc`: a higher score ranks first (AUROC); `asc`: a lower one does (error rates). */
export type RankOrder = (typeof RANK_ORDERS)[number];

/** Limits of one scorer run; the scorer is trusted code but still runs in a sandbox. */
export interface ScorerLimits {
  timeoutSeconds: number;
  memoryMb: number;
}

/** A benchmark as configured in `BENCHMARKS_DIR/{id}/benchmark.yaml`, with the host paths of its parts. */
export interface Benchmark {
  id: string;
  title: string;
  description: string;
  /** The ranking metric: a key every scores.json of this benchmark must hold. */
  metric: string;
  order: RankOrder;
  /** Further metrics shown beside the score on the board, when the scorer wrote them. */
  secondary: string[];
  scorer: ScorerLimits;
  /** Data every job on the benchmark may read (`/data` in the sandbox). */
  publicDir: string;
  /** Hidden data only the scorer sees. */
  referenceDir: string;
  /** The scoring program. */
  scorerPath: string;
}

/** A benchmark folder as found: usable, or unavailable with the one line that says why. */
export type BenchmarkListing =
  | { id: string; available: true; benchmark: Benchmark }
  | { id: string; available: false; problem: string };
