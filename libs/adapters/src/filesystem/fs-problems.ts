/**
 * Errors the file system raises because of a name a client chose, in words that follow that
 * name; anything else (ENOSPC, EACCES...) is the server's problem and is not listed.
 */
const NAME_PROBLEMS: Record<string, string> = {
  EEXIST: 'is a duplicate path: a file or folder of that name is already in the submission',
  ENOTDIR: 'is a duplicate path: a file or folder of that name is already in the submission',
  EISDIR: 'is a duplicate path: a file or folder of that name is already in the submission',
  ENAMETOOLONG: 'is a name the file system refuses as too long (ENAMETOOLONG); keep each part under 255 bytes',
  EINVAL: 'is a name the file system refuses (EINVAL)',
  EILSEQ: 'is a name the file system refuses as an invalid character sequence (EILSEQ)',
  ELOOP: 'is a name the file system refuses (ELOOP)',
};

export function fsProblem(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ? NAME_PROBLEMS[code] : undefined;
}
