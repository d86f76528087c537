import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

const SHARED_SOURCES = ['libs/domain/src', 'libs/adapters/src', 'tsconfig.json', 'nest-cli.json', 'package-lock.json'];

/** Newest modification time (ms) among the sources (folders or files) a bundle is built from. */
export function newestSource(sources: string[]): { mtime: number; file: string } {
  let newest = { mtime: 0, file: '' };
  const visit = (entry: string) => {
    const stat = statSync(entry);
    if (stat.isDirectory()) {
      for (const name of readdirSync(entry)) visit(path.join(entry, name));
    } else if (/\.(ts|json)$/.test(entry) && !entry.endsWith('.spec.ts') && stat.mtimeMs > newest.mtime) {
      newest = { mtime: stat.mtimeMs, file: path.relative(ROOT, entry) };
    }
  };
  for (const source of [...SHARED_SOURCES, ...sources]) {
    if (existsSync(path.join(ROOT, source))) visit(path.join(ROOT, source));
  }
  return newest;
}

/** The oldest of the bundles' modification times; 0 when one is missing. */
export function builtAt(bundles: string[]): number {
  return Math.min(...bundles.map((file) => (existsSync(file) ? statSync(file).mtimeMs : 0)));
}

/**
 * Runs `npm run build` when a bundle is missing or older than its sources. Returns the build's
 * exit status (0 when nothing had to be built).
 */
export function buildIfStale(bundles: string[], sources: string[], log: (line: string) => void): { status: number; newest: number } {
  const newest = newestSource(sources);
  const names = bundles.map((bundle) => path.relative(ROOT, bundle)).join(' and ');
  const built = builtAt(bundles);
  if (built >= newest.mtime) {
    log(`build: ${names} up to date`);
    return { status: 0, newest: newest.mtime };
  }
  log(built === 0 ? `build: ${names} missing; running npm run build` : `build: ${newest.file} is newer than dist; running npm run build`);
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  return { status: result.status ?? 1, newest: newest.mtime };
}
