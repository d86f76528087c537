import { canonicalJson, unsafePathReason } from '@app/domain';

describe('unsafePathReason', () => {
  it.each(['main.py', 'src/train.py', 'a/b/c/config.yaml', 'weird name.py'])('accepts %j', (path) => {
    expect(unsafePathReason(path)).toBeUndefined();
  });

  it.each(['', '..', '../x.py', 'a/../../b.py', '/etc/passwd', 'C:/x.py', 'a\\b.py', 'a//b.py', './a.py', 'a\0.py', 'a\n.py'])(
    'rejects %j',
    (path) => {
      expect(unsafePathReason(path)).toEqual(expect.any(String));
    },
  );

  it('counts lengths in UTF-8 bytes, as the file system does', () => {
    expect(unsafePathReason('模型.py')).toBeUndefined();
    expect(unsafePathReason(`${'a'.repeat(252)}.py`)).toBeUndefined();
    // 131 characters but 259 bytes: one name over Linux's 255-byte limit.
    expect(unsafePathReason(`src/${'é'.repeat(128)}.py`)).toBe('has a name of 259 bytes; each file or folder name may be at most 255 bytes (UTF-8)');
    expect(unsafePathReason(`${'abcdefgh/'.repeat(113)}x.py`)).toBeUndefined();
    expect(unsafePathReason(`${'abcdefgh/'.repeat(114)}x.py`)).toBe('is 1030 bytes long; paths may be at most 1024 bytes (UTF-8)');
  });

  it.each([
    ['a C1 control character', 'a\u0085.py', 'control character'],
    ['the replacement character of a bad decode', 'caf\uFFFD.py', 'not valid UTF-8'],
    ['a lone surrogate', 'a\uD800.py', 'lone surrogate'],
  ])('rejects %s', (_, path, reason) => {
    expect(unsafePathReason(path)).toContain(reason);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [2, { y: 1, x: 0 }], a: 1 })).toBe('{"a":1,"b":[2,{"x":0,"y":1}]}');
  });
});
