import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';
import { withEnvTables } from './operations-env';

const file = path.join(REPO_ROOT, 'docs/operations.md');
writeFileSync(file, withEnvTables(readFileSync(file, 'utf8')));
process.stdout.write(`environment tables written to ${file}\n`);
