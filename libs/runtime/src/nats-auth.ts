import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ServiceError } from './errors';

const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

/**
 * The service's NATS user (infra/nats: each service has its own, allowed to publish only its own
 * subjects). The password comes from NATS_PASSWORD or, for mounted secrets, from the file
 * NATS_PASSWORD_FILE names; neither is ever logged. Without a user the connection is anonymous.
 */
export const natsAuthEnv = {
  natsUser: ['NATS_USER', optionalText],
  natsPassword: ['NATS_PASSWORD', optionalText],
  natsPasswordFile: ['NATS_PASSWORD_FILE', optionalText],
} as const;

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
