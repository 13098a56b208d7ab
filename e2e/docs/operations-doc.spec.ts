import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';
import { SERVICE_ENVS, withEnvTables } from './operations-env';

describe('docs/operations.md', () => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs/operations.md'), 'utf8');

  it('lists every environment variable of every service as the code declares it (npm run docs:operations)', () => {
    expect(doc).toBe(withEnvTables(doc));
    for (const [, spec] of SERVICE_ENVS) for (const [variable] of Object.values(spec)) expect(doc).toContain(`\`${variable}\``);
  });
});
