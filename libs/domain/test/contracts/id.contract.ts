import { IdPort } from '@app/domain';

/** What every IdPort must do. */
export function idContract(make: () => IdPort): void {
  it('derives the same id from the same parts and different ids from different parts', () => {
    const ids = make();
    expect(ids.derive(['alice', 'sub', '{}'])).toBe(ids.derive(['alice', 'sub', '{}']));
    expect(ids.derive(['alice', 'sub', '{}'])).not.toBe(ids.derive(['bob', 'sub', '{}']));
    expect(ids.derive(['ab', 'c'])).not.toBe(ids.derive(['a', 'bc']));
  });

  it('hands out unique random ids that are safe in a path and a URL', () => {
    const ids = make();
    const seen = new Set(Array.from({ length: 1000 }, () => ids.random()));
    expect(seen.size).toBe(1000);
    for (const id of seen) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
}
