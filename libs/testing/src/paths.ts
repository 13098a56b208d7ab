import path from 'node:path';

/** Repository root and the shared fixtures beside the checkout (../shared/fixtures). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const FIXTURES_DIR = process.env.ARCWATCH_FIXTURES ?? path.resolve(REPO_ROOT, '..', 'shared', 'fixtures');
export const BENCH_DIR = path.resolve(FIXTURES_DIR, '..', 'bench');
