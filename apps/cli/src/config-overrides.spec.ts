import { configFromOverrides } from './config-overrides';
import { CliFailure, EXIT } from './exit-codes';

describe('configFromOverrides (--set)', () => {
  it('builds nested objects and reads values as YAML scalars', () => {
    expect(configFromOverrides(['model.lr=0.01', 'model.name=pca', 'epochs=3', 'fast=true', "tag='3'", 'empty=', 'none=null', 'url=http://x/a=b'])).toEqual({
      model: { lr: 0.01, name: 'pca' },
      epochs: 3,
      fast: true,
      tag: '3',
      empty: '',
      none: null,
      url: 'http://x/a=b',
    });
  });

  it('is undefined with no --set, and the last of two equal keys wins', () => {
    expect(configFromOverrides([])).toBeUndefined();
    expect(configFromOverrides(['a=1', 'a=2'])).toEqual({ a: 2 });
  });

  it.each([
    ['novalue', 'write key=value'],
    ['=1', 'write key=value'],
    ['a..b=1', 'empty part'],
    ['__proto__.x=1', '"__proto__" is not allowed'],
    ['a.constructor=1', '"constructor" is not allowed'],
    ['a=[1, 2', 'not valid YAML'],
  ])('refuses %s as a usage error', (assignment, message) => {
    expect(() => configFromOverrides([assignment])).toThrow(message);
    try {
      configFromOverrides([assignment]);
    } catch (error) {
      expect(error).toBeInstanceOf(CliFailure);
      expect((error as CliFailure).exitCode).toBe(EXIT.usage);
    }
  });

  it('refuses a key that is both a value and a mapping, in either order', () => {
    expect(() => configFromOverrides(['a=1', 'a.b=2'])).toThrow('a was already set to a value');
    expect(() => configFromOverrides(['a.b=2', 'a=1'])).toThrow('a already holds keys');
  });
});
