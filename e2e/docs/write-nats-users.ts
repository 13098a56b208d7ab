import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@arcwatch/testing';
import { renderUsersConf } from './nats-permissions';

const file = path.join(REPO_ROOT, 'infra/nats/users.conf');
writeFileSync(file, renderUsersConf());
process.stdout.write(`NATS users and permissions written to ${file}\n`);
