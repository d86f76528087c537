import { idContract } from '../../../domain/test/contracts/id.contract';
import { CryptoIdAdapter } from './crypto-id.adapter';

describe('CryptoIdAdapter', () => {
  idContract(() => new CryptoIdAdapter());

  it('derives UUID-shaped job ids', () => {
    expect(new CryptoIdAdapter().derive(['x'])).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
