import { readFileSync } from 'node:fs';
import { ServiceError } from './errors';

/*
 * The variables themselves (natsAuthEnv) are declared with the others in config.ts: this file
 * loads no zod, for the node agent (docs/decisions/0006-agent-runtime.md).
 */
export interface NatsAuth {
  user: string;
  pass: string;
}

interface NatsAuthConfig {
  readonly natsUser?: string | undefined;
  readonly natsPassword?: string | undefined;
  readonly natsPasswordFile?: string | undefined;
}

/** The credentials a service connects with, or undefined for an anonymous connection. */
export function natsAuth(
  config: NatsAuthConfig,
  read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
): NatsAuth | undefined {
  const { natsUser: user, natsPassword, natsPasswordFile: file } = config;
  if (natsPassword !== undefined && file !== undefined)
    throw new ServiceError('CONFIG_INVALID', 'invalid environment: set NATS_PASSWORD or NATS_PASSWORD_FILE, not both');
  if (user === undefined) {
    if (natsPassword !== undefined || file !== undefined)
      throw new ServiceError('CONFIG_INVALID', 'invalid environment: a NATS password without NATS_USER');
    return undefined;
  }
  if (file === undefined) {
    if (natsPassword === undefined)
      throw new ServiceError(
        'CONFIG_INVALID',
        `invalid environment: NATS_USER ${user} without NATS_PASSWORD or NATS_PASSWORD_FILE`,
      );
    return { user, pass: natsPassword };
  }
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    throw new ServiceError(
      'CONFIG_INVALID',
      `invalid environment: NATS_PASSWORD_FILE ${file}: ${(err as Error).message}`,
    );
  }
  // A secret file usually ends with a newline that is not part of the password.
  const pass = text.replace(/\r?\n$/, '');
  if (pass === '') throw new ServiceError('CONFIG_INVALID', `invalid environment: NATS_PASSWORD_FILE ${file} is empty`);
  return { user, pass };
}
