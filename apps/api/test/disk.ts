import { readdirSync } from 'node:fs';
import * as path from 'node:path';

/** Every file and folder below `root`, relative, so a test can say "nothing was left behind". */
export function listTree(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true }).map((entry) =>
    path.relative(root, path.join(entry.parentPath, entry.name)),
  );
}
