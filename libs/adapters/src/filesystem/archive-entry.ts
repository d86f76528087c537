/** One entry of an uploaded archive, read lazily: the next entry comes once this one is handled. */
export interface ArchiveEntry {
  /** The name as the archive stores it (decoded as UTF-8); nothing is checked or stripped yet. */
  name: string;
  kind: 'file' | 'directory';
  /** Why the entry can never be unpacked (a link, a device...), as words that follow its name. */
  problem?: string;
  /** Uncompressed size the archive declares, known before any byte of the content is read. */
  declaredSize: number;
  /** The uncompressed bytes of a file entry. */
  content(): Promise<AsyncIterable<Buffer>>;
}
