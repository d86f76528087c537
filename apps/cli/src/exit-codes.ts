/** What each exit code means; CI scripts branch on these (docs/ci.md). */
export const EXIT = {
  completed: 0,
  failed: 1,
  usage: 2,
  cancelled: 3,
  rateLimited: 4,
  unreachable: 5,
  apiError: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_HELP = `Exit codes:
  0  done (with --wait/--follow: the job completed, and was scored when it is on a benchmark)
  1  the job failed (its error message is printed)
  2  usage error (unknown flag, bad value, DIR without its entrypoint)
  3  the job was cancelled
  4  rate limited (prints when to retry)
  5  API unreachable (connection refused, unknown host, timeout)
  6  any other API error (prints the API's message: 400, 401, 403, 404, 409...)`;

/** A failure the CLI reports in one line and exits with; anything else is a bug. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Extra fields for the --json error object (retry_after_s, http_status). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliFailure(message, EXIT.usage);
