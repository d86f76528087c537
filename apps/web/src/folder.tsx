import { tarBytes } from './tar';

export interface PickedFile {
  /** Path inside the picked or dropped folder ("src/model.py"), or the plain name of a lone file. */
  path: string;
  file: File;
}

/** Caches and version-control folders never belong in a submission (the CLI reads .gitignore; this is the short list). */
const SKIPPED = /(^|\/)(__pycache__|\.git|\.venv|node_modules|\.ipynb_checkpoints)(\/|$)|(^|\/)\.[^/]*$|\.pyc$/;

/** Drops the folder's own name: "anomaly-digits/main.py" -> "main.py", so the entrypoint reads as in the folder. */
export function insideFolder(relativePath: string): string {
  const parts = relativePath.replace(/^\/+/, '').split('/');
  return parts.length > 1 ? parts.slice(1).join('/') : parts[0];
}

export function keepInFolder(path: string): boolean {
  return !SKIPPED.test(path);
}

/** Packs a folder as one gzip'd tar, in the browser (CompressionStream). */
export async function packFolder(files: PickedFile[]): Promise<Blob> {
  const entries = await Promise.all(
    files.map(async ({ path, file }) => ({ path, data: new Uint8Array(await file.arrayBuffer()), modified: file.lastModified })),
  );
  const tar = new Blob(tarBytes(entries) as BlobPart[]);
  return new Response(tar.stream().pipeThrough(new CompressionStream('gzip'))).blob();
}

/** Every file under a dropped folder (the drag-and-drop entries API), with paths inside it. */
export async function readDroppedFolder(root: FileSystemDirectoryEntry): Promise<PickedFile[]> {
  const files: PickedFile[] = [];
  const walk = async (directory: FileSystemDirectoryEntry): Promise<void> => {
    const reader = directory.createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) return;
      for (const entry of batch) {
        if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry);
        else {
          const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
          files.push({ path: insideFolder(entry.fullPath), file });
        }
      }
    }
  };
  await walk(root);
  return files.filter((picked) => keepInFolder(picked.path));
}
