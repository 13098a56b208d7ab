import { bearerToken, configuredTokenCheck } from './token';

describe('configured tokens (a process without a token store: the node agent)', () => {
  const check = configuredTokenCheck(['aw_metrics_token_0123456789']);
  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

  it('lets in the configured token as bearer or basic-auth password', () => {
    expect(check('Bearer aw_metrics_token_0123456789')).toEqual({ ok: true });
    expect(check(basic('prometheus', 'aw_metrics_token_0123456789'))).toEqual({ ok: true });
  });

  it('refuses no header, a malformed one and another token, each with its message', () => {
    expect(check(undefined)).toEqual({
      ok: false,
      code: 'UNAUTHENTICATED',
      message: 'send Authorization: Bearer <token>',
    });
    expect(check('Token x')).toMatchObject({ ok: false, message: expect.stringContaining('Bearer <token>') });
    expect(check('Bearer aw_metrics_token_0123456780')).toEqual({
      ok: false,
      code: 'UNAUTHENTICATED',
      message: 'unknown or revoked token',
    });
    expect(check(basic('aw_metrics_token_0123456789', ''))).toMatchObject({ ok: false });
  });

  it('reads the token of a basic header as the password, the user name ignored', () => {
    expect(bearerToken(basic('anyone', 'p:w'))).toBe('p:w');
  });
});
