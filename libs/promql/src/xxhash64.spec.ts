import { labelsHash, xxhash64 } from './xxhash64';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('xxhash64', () => {
  it('matches the reference XXH64 digests (seed 0), short and long inputs', () => {
    expect(xxhash64(bytes('')).toString(16)).toBe('ef46db3751d8e999');
    expect(xxhash64(bytes('a')).toString(16)).toBe('d24ec4f1a98c6e5b');
    expect(xxhash64(bytes('abc')).toString(16)).toBe('44bc2cf5ad770999');
    expect(xxhash64(bytes('Nobody inspects the spammish repetition')).toString(16)).toBe('fbcea83c8a378bf1');
    expect(xxhash64(bytes('x'.repeat(100))).toString(16)).toBe('92f0de5a88a3c094');
    expect(xxhash64(Uint8Array.from({ length: 40 }, (_, i) => i)).toString(16)).toBe('f5da40f1b11741e9');
  });

  it('hashes label sets as name 0xff value 0xff, sorted by name', () => {
    expect(labelsHash({ __name__: 'http_requests' }).toString(16)).toBe('d48e58ba8960fe2e');
    expect(labelsHash({ b: '2', a: '1' })).toBe(labelsHash({ a: '1', b: '2' }));
  });
});
