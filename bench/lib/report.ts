/** Prints what went wrong during a benchmark; the exit code is 1 if anything did. */
export function reportProblems(problems: string[], log: (line?: string) => void): number {
  if (problems.length === 0) return 0;
  log();
  log('FAILED: the benchmark saw errors:');
  for (const problem of problems) log(`- ${problem}`);
  return 1;
}
