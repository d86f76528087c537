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
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [2, { y: 1, x: 0 }], a: 1 })).toBe('{"a":1,"b":[2,{"x":0,"y":1}]}');
  });
});
