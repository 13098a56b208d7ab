import { parseApiKeysYaml } from './api-keys.config';

const HASH = 'f0d9cd6fe5df299e7139d780940ea50b36c1fe0bdea898a975ed7c5e54227e12';

describe('API-key mapping file', () => {
  it('reads tenant, team and project per key hash', () => {
    expect(
      parseApiKeysYaml(`apiKeys:\n  - keyHash: ${HASH}\n    tenant: acme\n    team: search\n`, 'keys.yaml'),
    ).toEqual([{ keyHash: HASH, tenant: 'acme', team: 'search' }]);
  });

  it('names the file, line and field of a bad entry', () => {
    const text = `apiKeys:\n  - keyHash: ${HASH}\n    tenant: acme\n  - keyHash: sk-live-raw-key\n    tenant: globex\n`;
    expect(() => parseApiKeysYaml(text, 'keys.yaml')).toThrow(
      /^keys\.yaml:4:14: apiKeys\[1\]\.keyHash: expected 64 lowercase hex/,
    );
  });

  it('refuses the same key hash twice', () => {
    const text = `apiKeys:\n  - { keyHash: ${HASH}, tenant: a }\n  - { keyHash: ${HASH}, tenant: b }\n`;
    expect(() => parseApiKeysYaml(text, 'keys.yaml')).toThrow(/duplicate key hash/);
  });
});
