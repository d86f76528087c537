/** Linux's limit on one name; longer ones fail with ENAMETOOLONG. */
export const MAX_NAME_SEGMENT_BYTES = 255;
/** A sane bound on a whole relative path, well under PATH_MAX once the storage root is prefixed. */
export const MAX_PATH_BYTES = 1024;

const encoder = new TextEncoder();

/**
 * Checks a user-given relative path (entrypoint, config file, uploaded or archived file name) and
 * returns why it is unsafe, or undefined when it stays inside the submission folder. Lengths are
 * UTF-8 bytes, as the file system counts them.
 */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.includes('\\')) return 'contains a backslash; use / between folders';
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path)) return 'is absolute; give a path relative to the submission';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(path)) return 'contains a control character';
  if (path.includes('\uFFFD')) return 'is not valid UTF-8 (it holds the replacement character U+FFFD)';
  if (/[\uD800-\uDFFF]/.test(path.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) return 'is not valid Unicode (a lone surrogate)';
  const bytes = encoder.encode(path).length;
  if (bytes > MAX_PATH_BYTES) return `is ${bytes} bytes long; paths may be at most ${MAX_PATH_BYTES} bytes (UTF-8)`;
  const segments = path.split('/');
  if (segments.some((segment) => segment === '..')) return 'contains ".."; it must stay inside the submission';
  if (segments.some((segment) => segment === '' || segment === '.')) return 'has an empty or "." path segment';
  const long = segments.find((segment) => encoder.encode(segment).length > MAX_NAME_SEGMENT_BYTES);
  if (long !== undefined) {
    return `has a name of ${encoder.encode(long).length} bytes; each file or folder name may be at most ${MAX_NAME_SEGMENT_BYTES} bytes (UTF-8)`;
  }
  return undefined;
}
