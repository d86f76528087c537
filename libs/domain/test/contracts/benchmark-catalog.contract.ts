import { BenchmarkCatalogPort } from '@app/domain';

/** The benchmarks a catalog under test must hold: usable ones and invalid ones, by id. */
export interface CatalogSetup {
  valid: string[];
  invalid: string[];
}

/** What every BenchmarkCatalogPort promises. */
export function benchmarkCatalogContract(make: (setup: CatalogSetup) => Promise<BenchmarkCatalogPort>): void {
  it('lists every benchmark, usable or not, sorted by id', async () => {
    const catalog = await make({ valid: ['zeta', 'alpha-2', 'alpha'], invalid: ['mid', '0-first'] });
    expect(catalog.list().map((listing) => [listing.id, listing.available])).toEqual([
      ['0-first', false],
      ['alpha', true],
      ['alpha-2', true],
      ['mid', false],
      ['zeta', true],
    ]);
  });

  it('get answers what list holds, and undefined for an unknown id', async () => {
    const catalog = await make({ valid: ['alpha'], invalid: ['broken'] });
    for (const listing of catalog.list()) expect(catalog.get(listing.id)).toEqual(listing);
    expect(catalog.get('alpha')).toMatchObject({ available: true, benchmark: { id: 'alpha' } });
    expect(catalog.get('broken')).toMatchObject({ available: false, problem: expect.any(String) });
    expect(catalog.get('unknown')).toBeUndefined();
  });

  it('an empty catalog lists nothing', async () => {
    const catalog = await make({ valid: [], invalid: [] });
    expect(catalog.list()).toEqual([]);
    expect(catalog.get('alpha')).toBeUndefined();
  });

  it('a caller changing the list it got does not change the catalog', async () => {
    const catalog = await make({ valid: ['alpha'], invalid: [] });
    catalog.list().pop();
    expect(catalog.list()).toHaveLength(1);
  });
}
