import { CommanderError } from 'commander';
import { CliFailure, EXIT } from './exit-codes';
import { buildProgram } from './program';

/**
 * The `leaderboard` CLI (bin/leaderboard.js). The exit code is set, never forced with
 * process.exit, so that everything written to a pipe is flushed before the process ends.
 */
async function main(): Promise<void> {
  const program = buildProgram(
    {
      onResult(code) {
        process.exitCode = code;
      },
      onError(error, json) {
        if (!(error instanceof CliFailure)) throw error;
        process.stderr.write(`leaderboard: ${error.message}\n`);
        if (json) process.stdout.write(`${JSON.stringify({ error: { message: error.message, exit_code: error.exitCode, ...error.details } }, null, 2)}\n`);
        process.exitCode = error.exitCode;
      },
    },
    process.env,
  );
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and --version are not errors; everything else commander refuses is a usage error.
    const asked = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code);
    process.exitCode = asked ? EXIT.completed : EXIT.usage;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`leaderboard: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = EXIT.apiError;
});
