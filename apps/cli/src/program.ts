import { Command, InvalidArgumentError, Option } from 'commander';
import { benchmarks, board } from './commands/benchmarks';
import { cancel, listJobs, rerun, status } from './commands/jobs';
import { logs } from './commands/logs';
import { submit } from './commands/submit';
import { CliContext, DEFAULT_URL, GlobalOptions, makeContext } from './context';
import { EXIT_CODE_HELP, ExitCode } from './exit-codes';

/** A command: the context, then its arguments in order, then its options (as commander passes them). */
type Action = (context: CliContext, ...argumentsThenOptions: never[]) => Promise<ExitCode>;

export interface ProgramHooks {
  /** Called with the exit code of the command that ran. */
  onResult(code: ExitCode): void;
  /** Called with what a command threw, and whether it was asked for JSON. */
  onError(error: unknown, json: boolean): void;
}

/** The `leaderboard` command line: one subcommand per thing a person or a CI job does. */
export function buildProgram(hooks: ProgramHooks, env: NodeJS.ProcessEnv): Command {
  const program = new Command('leaderboard')
    .description('Submit code to a LeadersBoard server, follow its jobs and read the leaderboards.')
    .option('--url <url>', `API base URL (env LEADERBOARD_URL, default ${DEFAULT_URL})`)
    .option('--token <token>', 'API token (env LEADERBOARD_TOKEN)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText('after', `\n${EXIT_CODE_HELP}\n\nEnvironment: LEADERBOARD_URL, LEADERBOARD_TOKEN (the flags override them).`);

  // Every action gets the context built from the global flags and the environment.
  const action =
    (run: Action) =>
    async (...received: unknown[]) => {
      const command = received[received.length - 1] as Command;
      const options = command.opts<{ json?: boolean }>();
      try {
        const context = makeContext(command.optsWithGlobals<GlobalOptions>(), env);
        hooks.onResult(await run(context, ...(received.slice(0, -1) as never[])));
      } catch (error) {
        hooks.onError(error, Boolean(options.json));
      }
    };

  const json = () => new Option('--json', 'print machine-readable JSON on stdout');
  const wait = () => new Option('--wait', 'wait until the job is final; the exit code says how it ended');
  const follow = () => new Option('--follow', 'stream the job\'s log to stderr until it is final (implies --wait)');

  program
    .command('submit')
    .description('pack DIR (honouring .gitignore and .leaderboardignore), upload it and queue a job; prints the job id')
    .argument('<dir>', 'the folder holding your code')
    .option('--benchmark <id>', 'score the job on this benchmark (default: the server\'s DEFAULT_BENCHMARK)')
    .option('--entrypoint <file>', 'the .py file to run, relative to DIR', 'main.py')
    .option('--config <file>', 'the config file, relative to DIR (default: config.yaml when present)')
    .option('--set <key=value>', 'override a config value, e.g. --set model.lr=0.01 (repeatable; values read as YAML)', collect)
    .addOption(new Option('--class <class>', 'resource class').choices(['small', 'medium']).default('small'))
    .addOption(wait())
    .addOption(follow())
    .addOption(json())
    .action(action(submit));

  program.command('status').description("a job's status and scores").argument('<job>', 'job id').addOption(json()).action(action(status));
  program
    .command('logs')
    .description("a job's log on stdout")
    .argument('<job>', 'job id')
    .option('--follow', 'stream until the job is final; the exit code says how it ended')
    .option('--offset <bytes>', 'start at this byte offset', integer, 0)
    .addOption(json())
    .action(action(logs));
  program.command('cancel').description('cancel a pending or running job').argument('<job>', 'job id').addOption(json()).action(action(cancel));
  program
    .command('rerun')
    .description('run a job again: same submission, config, class and benchmark; prints the new job id')
    .argument('<job>', 'job id')
    .addOption(wait())
    .addOption(follow())
    .addOption(json())
    .action(action(rerun));
  program
    .command('jobs')
    .description('your jobs, newest first')
    .option('--limit <n>', 'jobs per page', integer)
    .option('--offset <n>', 'skip this many', integer)
    .option('--all', "every user's jobs (admins only)")
    .addOption(json())
    .action(action(listJobs));
  program.command('benchmarks').description('the benchmarks and the size of their boards').addOption(json()).action(action(benchmarks));
  program
    .command('board')
    .description("a benchmark's leaderboard")
    .argument('<benchmark>', 'benchmark id')
    .option('--all', 'every ranked run, not only the best per user')
    .option('--csv', 'the board as CSV (the same rows as the web download)')
    .option('--limit <n>', 'rows per page', integer)
    .option('--offset <n>', 'skip this many rows', integer)
    .addOption(json())
    .action(action(board));
  return program;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function integer(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number, 0 or more');
  return Number(value);
}
