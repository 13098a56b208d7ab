import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** A path with its links resolved (when it exists), so that scripts that compare their own URL with argv match. */
function real(p: string): string {
  return existsSync(p) ? realpathSync(p) : p;
}

/** Repository root and the shared fixtures beside the checkout (../shared/fixtures). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const FIXTURES_DIR = real(process.env.ARCWATCH_FIXTURES ?? path.resolve(REPO_ROOT, '..', 'shared', 'fixtures'));
export const BENCH_DIR = real(path.resolve(FIXTURES_DIR, '..', 'bench'));
