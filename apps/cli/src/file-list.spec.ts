import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { listSubmissionFiles } from './file-list';

describe('listSubmissionFiles', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'lb-files-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function write(files: Record<string, string>): Promise<void> {
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), content);
    }
  }

  it('applies the .gitignore files of the repository above DIR, deeper ones overriding, and never .leaderboardignore from above', async () => {
    await write({
      '.git/HEAD': 'ref',
      '.gitignore': '*.csv\n__pycache__/\n',
      '.leaderboardignore': 'main.py\n',
      'project/.gitignore': '!keep.csv\n',
      'project/main.py': '',
      'project/keep.csv': '',
      'project/drop.csv': '',
      'project/__pycache__/main.pyc': '',
    });
    expect(await listSubmissionFiles(path.join(root, 'project'))).toEqual(['.gitignore', 'keep.csv', 'main.py']);
  });

  it('in a repository of its own reads only the ignore files inside DIR; an ignored folder is not entered; .git/ never packed', async () => {
    await write({ '.git/config': '', 'main.py': '', 'data/big.txt': '', 'data/keep.txt': '', '.leaderboardignore': 'data/\n!data/keep.txt\n' });
    expect(await listSubmissionFiles(root)).toEqual(['.leaderboardignore', 'main.py']);
  });

  it('refuses a symbolic link unless it is ignored', async () => {
    await write({ 'main.py': '' });
    await symlink('/etc/hostname', path.join(root, 'link.txt'));
    await expect(listSubmissionFiles(root)).rejects.toThrow('link.txt is a symbolic link');
    await write({ '.leaderboardignore': 'link.txt\n' });
    expect(await listSubmissionFiles(root)).toEqual(['.leaderboardignore', 'main.py']);
  });
});
