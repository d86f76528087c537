/**
 * Checks a user-given relative path (entrypoint, config file) and returns why it is unsafe,
 * or undefined when it stays inside the submission folder.
 */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > 255) return 'is longer than 255 characters';
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.includes('\\')) return 'contains a backslash; use / between folders';
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path)) return 'is absolute; give a path relative to the submission';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  const segments = path.split('/');
  if (segments.some((segment) => segment === '..')) return 'contains ".."; it must stay inside the submission';
  if (segments.some((segment) => segment === '' || segment === '.')) return 'has an empty or "." path segment';
  return undefined;
}
