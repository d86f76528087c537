import { Invalid } from '@app/domain';

/**
 * Every path of one submission, so that no two differ only in letter case or Unicode form
 * ("é" precomposed or not): both are legal on Linux but name one file on other systems and
 * read as one to a person. A file and a folder of the same name are refused too.
 */
export class NameRegistry {
  private readonly byKey = new Map<string, { name: string; kind: 'file' | 'directory' }>();

  /** `label` says where the name came from ("file "x"", "archive "a.zip": entry "x""). */
  add(relative: string, kind: 'file' | 'directory', label: string): void {
    const segments = relative.split('/');
    for (let depth = 1; depth <= segments.length; depth++) {
      const name = segments.slice(0, depth).join('/');
      const ownKind = depth === segments.length ? kind : 'directory';
      const key = name.normalize('NFC').toLowerCase();
      const seen = this.byKey.get(key);
      if (!seen) {
        this.byKey.set(key, { name, kind: ownKind });
        continue;
      }
      if (seen.name !== name) {
        throw new Invalid([`${label} clashes with "${printable(seen.name)}": names may not differ only in letter case or Unicode form`]);
      }
      if (seen.kind !== ownKind) throw new Invalid([`${label}: "${printable(name)}" is both a file and a folder in the submission`]);
      if (ownKind === 'file') throw new Invalid([`${label} is a duplicate path: a file of that name is already in the submission`]);
    }
  }
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
