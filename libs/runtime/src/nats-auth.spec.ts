import { ServiceError } from './errors';
import { natsAuth } from './nats-auth';

describe('natsAuth: NATS credentials from the environment or a file', () => {
  const files: Record<string, string> = { '/run/secrets/nats': 's3cret\n', '/run/secrets/empty': '\n' };
  const read = (f: string) => {
    if (!(f in files)) throw new Error(`ENOENT: no such file or directory, open '${f}'`);
    return files[f];
  };

  it('is anonymous without a user', () => {
    expect(natsAuth({}, read)).toBeUndefined();
  });

  it('takes the password from the environment or from the file, without its final newline', () => {
    expect(natsAuth({ natsUser: 'tracing', natsPassword: 'pw' }, read)).toEqual({ user: 'tracing', pass: 'pw' });
    expect(natsAuth({ natsUser: 'tracing', natsPasswordFile: '/run/secrets/nats' }, read)).toEqual({
      user: 'tracing',
      pass: 's3cret',
    });
  });

  it.each([
    [{ natsUser: 'tracing' }, 'NATS_USER tracing without NATS_PASSWORD or NATS_PASSWORD_FILE'],
    [{ natsPassword: 'pw' }, 'a NATS password without NATS_USER'],
    [{ natsUser: 'a', natsPassword: 'pw', natsPasswordFile: '/run/secrets/nats' }, 'not both'],
    [
      { natsUser: 'a', natsPasswordFile: '/nope' },
      "NATS_PASSWORD_FILE /nope: ENOENT: no such file or directory, open '/nope'",
    ],
    [{ natsUser: 'a', natsPasswordFile: '/run/secrets/empty' }, 'NATS_PASSWORD_FILE /run/secrets/empty is empty'],
  ])('refuses %j with a message that names the variable', (config, message) => {
    let caught: unknown;
    try {
      natsAuth(config, read);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ServiceError);
    expect((caught as ServiceError).message).toContain(message);
    // The password itself never appears in the error.
    expect((caught as ServiceError).message).not.toContain('pw');
  });
});
