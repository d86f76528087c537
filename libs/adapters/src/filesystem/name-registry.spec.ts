import { Invalid } from '@app/domain';
import { NameRegistry } from './name-registry';

describe('NameRegistry', () => {
  it('refuses names that differ only in case or Unicode form, at any depth', () => {
    const names = new NameRegistry();
    names.add('src/a/model.py', 'file', 'first');
    expect(() => names.add('SRC/b.py', 'file', 'second')).toThrow(/second clashes with "src": names may not differ only in letter case/);
    expect(() => names.add('src/A/c.py', 'file', 'third')).toThrow(/third clashes with "src\/a"/);
    names.add('caf\u00e9/x.py', 'file', 'nfc');
    expect(() => names.add('cafe\u0301/y.py', 'file', 'nfd')).toThrow(Invalid);
  });

  it('refuses a file and a folder of one name, and a duplicate file', () => {
    const names = new NameRegistry();
    names.add('a/b', 'file', 'file b');
    expect(() => names.add('a/b/c.py', 'file', 'c')).toThrow(/c: "a\/b" is both a file and a folder/);
    expect(() => names.add('a', 'file', 'a')).toThrow(/a: "a" is both a file and a folder/);
    expect(() => names.add('a/b', 'file', 'again')).toThrow(/again is a duplicate path/);
    names.add('a', 'directory', 'folder a');
    names.add('a/d/e.py', 'file', 'e');
    expect(() => names.add('a/d', 'file', 'd')).toThrow(/"a\/d" is both a file and a folder/);
  });

  // Attack: 10,000 entries a/a/.../a/fN (511 folders deep, under the 1024-byte path cap) made
  // every entry rebuild and normalise all 511 prefixes (~5 ms each, ~50 s per upload).
  it('registers deep siblings in time linear in their number', () => {
    const names = new NameRegistry();
    const folder = Array(511).fill('a').join('/');
    const started = Date.now();
    for (let index = 0; index < 2000; index++) names.add(`${folder}/f${index}`, 'file', `entry ${index}`);
    expect(Date.now() - started).toBeLessThan(500);
  });
});
