import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { STATUS_FD } from './supervised-process';

/** python/launcher.py of this checkout or image: found upwards from here (src/ in tests, dist/ once built). */
export function findLauncher(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'python', 'launcher.py');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`python/launcher.py not found above ${from}`);
  }
}

export interface LauncherCall {
  python: string;
  launcher: string;
  entrypoint: string;
  /** A job's `--config C --output O`, or the whole argument list of the entrypoint (a scorer's). */
  args: { config: string; output: string } | string[];
  relay?: { socket: string; port: number };
}

/** `python launcher.py ...`: how the runners start a job and the scorers a scorer. */
export function launcherCommand(call: LauncherCall): string[] {
  const command = [
    call.python,
    // Isolated: the launcher ignores PYTHON* variables and never imports from the submission.
    '-I',
    call.launcher,
    // `=`: a value starting with "-" stays a value.
    `--entrypoint=${call.entrypoint}`,
    `--status-fd=${STATUS_FD}`,
  ];
  if (call.relay) command.push(`--relay-socket=${call.relay.socket}`, `--relay-port=${call.relay.port}`);
  if (Array.isArray(call.args)) return [...command, '--', ...call.args];
  return [...command, `--config=${call.args.config}`, `--output=${call.args.output}`];
}
