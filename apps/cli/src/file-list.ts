import { existsSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import ignore, { Ignore } from 'ignore';
import { usageError } from './exit-codes';

const IGNORE_FILES = ['.gitignore', '.leaderboardignore'];

/** The rules of one ignore file, applied to paths relative to the folder that holds it. */
interface Rules {
  base: string;
  matcher: Ignore;
}

/**
 * The files of DIR a submission holds, as paths relative to DIR with `/` separators, sorted.
 * Follows git: every .gitignore from the enclosing repository's root down applies, a deeper file
 * overrides a shallower one, an ignored folder is not entered; .leaderboardignore files work the
 * same way and override the .gitignore beside them. `.git/` is never packed.
 */
export async function listSubmissionFiles(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const files: string[] = [];
  await walk(root, root, await ancestorRules(root), files);
  return files.sort();
}

async function walk(root: string, folder: string, inherited: Rules[], files: string[]): Promise<void> {
  const rules = [...inherited, ...(await rulesIn(folder))];
  const entries = await readdir(folder, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const absolute = path.join(folder, entry.name);
    const isFolder = entry.isDirectory();
    if (isFolder && entry.name === '.git') continue;
    if (isIgnored(rules, absolute, isFolder)) continue;
    const relative = path.relative(root, absolute).split(path.sep).join('/');
    if (isFolder) await walk(root, absolute, rules, files);
    else if (entry.isFile()) files.push(relative);
    else if (entry.isSymbolicLink()) {
      throw usageError(`${relative} is a symbolic link; the API accepts regular files only (copy the file, or list it in .leaderboardignore)`);
    }
  }
}

/** The last rule file with an opinion decides, as in git (rules are ordered shallow to deep). */
function isIgnored(rules: Rules[], absolute: string, isFolder: boolean): boolean {
  let ignored = false;
  for (const { base, matcher } of rules) {
    const relative = path.relative(base, absolute).split(path.sep).join('/');
    if (relative.startsWith('..') || relative === '') continue;
    const verdict = matcher.test(isFolder ? `${relative}/` : relative);
    if (verdict.ignored) ignored = true;
    else if (verdict.unignored) ignored = false;
  }
  return ignored;
}

async function rulesIn(folder: string, names = IGNORE_FILES): Promise<Rules[]> {
  const rules: Rules[] = [];
  for (const name of names) {
    const text = await readFile(path.join(folder, name), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR') return undefined;
      throw error;
    });
    if (text !== undefined) rules.push({ base: folder, matcher: ignore().add(text) });
  }
  return rules;
}

/** The .gitignore files above DIR up to its repository's root (not .leaderboardignore: that one is DIR's own). */
async function ancestorRules(root: string): Promise<Rules[]> {
  const above: string[] = [];
  let folder = root;
  while (!existsSync(path.join(folder, '.git'))) {
    const parent = path.dirname(folder);
    if (parent === folder) return [];
    folder = parent;
    above.unshift(folder);
  }
  const rules: Rules[] = [];
  for (const ancestor of above) rules.push(...(await rulesIn(ancestor, ['.gitignore'])));
  return rules;
}

/** Whether a path inside DIR exists as a regular file (before it is checked against the ignore rules). */
export async function isRegularFile(file: string): Promise<boolean> {
  return lstat(file).then((stats) => stats.isFile(), () => false);
}
