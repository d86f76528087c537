import { Invalid } from '@app/domain';

/**
 * Every path of one submission, so that no two differ only in letter case or Unicode form
 * ("é" precomposed or not): both are legal on Linux but name one file on other systems and
 * read as one to a person. A file and a folder of the same name are refused too.
 */
export class NameRegistry {
  private readonly byKey = new Map<string, { name: string; kind: 'file' | 'directory' }>();
  /** Folders already registered, as spelled: their parents are too, so a walk up stops there. */
  private readonly folders = new Set<string>();

  /** `label` says where the name came from ("file "x"", "archive "a.zip": entry "x""). */
  add(relative: string, kind: 'file' | 'directory', label: string): void {
    // Only the parents not seen yet are checked (shallowest first): O(1) per entry of a known folder.
    const newParents: string[] = [];
    for (let cut = relative.lastIndexOf('/'); cut > 0; cut = relative.lastIndexOf('/', cut - 1)) {
      const parent = relative.slice(0, cut);
      if (this.folders.has(parent)) break;
      newParents.push(parent);
    }
    for (const parent of newParents.reverse()) this.register(parent, 'directory', label);
    this.register(relative, kind, label);
  }

  private register(name: string, kind: 'file' | 'directory', label: string): void {
    const key = name.normalize('NFC').toLowerCase();
    const seen = this.byKey.get(key);
    if (seen) {
      if (seen.name !== name) {
        throw new Invalid([`${label} clashes with "${printable(seen.name)}": names may not differ only in letter case or Unicode form`]);
      }
      if (seen.kind !== kind) throw new Invalid([`${label}: "${printable(name)}" is both a file and a folder in the submission`]);
      if (kind === 'file') throw new Invalid([`${label} is a duplicate path: a file of that name is already in the submission`]);
    } else {
      this.byKey.set(key, { name, kind });
    }
    if (kind === 'directory') this.folders.add(name);
  }
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
