import {
  bearerToken,
  canSeeTenant,
  csrfValid,
  effectiveTenant,
  generateToken,
  hashSecret,
  parseCookies,
  roleAllows,
  serializeCookie,
  sessionCookies,
  tokenHint,
} from './access';

describe('roles', () => {
  it('orders viewer < operator < admin', () => {
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(roleAllows('operator', 'admin')).toBe(false);
  });
});

describe('tokens', () => {
  it('are random, prefixed and stored only as their SHA-256', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^aw_[A-Za-z0-9_-]{43}$/);
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(tokenHint(a)).toBe(a.slice(0, 7));
  });

  it('reads the bearer header strictly', () => {
    expect(bearerToken('Bearer aw_x')).toBe('aw_x');
    expect(bearerToken('bearer aw_x ')).toBe('aw_x');
    expect(bearerToken('Basic Zm9v')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('tenant scope', () => {
  it('lets an unscoped token read what it asks for', () => {
    expect(effectiveTenant({ tenant: null }, 'acme')).toBe('acme');
    expect(effectiveTenant({ tenant: null }, undefined)).toBeUndefined();
    expect(canSeeTenant({ tenant: null }, 'anyone')).toBe(true);
  });

  it('pins a scoped token to its tenant and refuses another', () => {
    expect(effectiveTenant({ tenant: 'acme' }, undefined)).toBe('acme');
    expect(effectiveTenant({ tenant: 'acme' }, '')).toBe('acme');
    expect(effectiveTenant({ tenant: 'acme' }, 'acme')).toBe('acme');
    expect(() => effectiveTenant({ tenant: 'acme' }, 'globex')).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', status: 403 }),
    );
    expect(canSeeTenant({ tenant: 'acme' }, 'globex')).toBe(false);
    expect(canSeeTenant({ tenant: 'acme' }, null)).toBe(false);
  });
});

describe('cookies and CSRF', () => {
  it('parses a Cookie header, first value wins, undecodable kept raw', () => {
    expect(parseCookies('a=1; b=x%20y; a=2; bad; c=%E0')).toEqual({ a: '1', b: 'x y', c: '%E0' });
    expect(parseCookies(undefined)).toEqual({});
  });

  it('writes SameSite=Strict cookies, the session one HTTP-only', () => {
    expect(serializeCookie('n', 'v v', { httpOnly: true, maxAgeSeconds: 60, secure: true })).toBe(
      'n=v%20v; Path=/; Max-Age=60; SameSite=Strict; HttpOnly; Secure',
    );
    const [session, csrf] = sessionCookies({ sessionId: 's', csrf: 'c', maxAgeSeconds: 10 }, false);
    expect(session).toContain('aw_session=s');
    expect(session).toContain('HttpOnly');
    expect(csrf).toContain('aw_csrf=c');
    expect(csrf).not.toContain('HttpOnly');
  });

  it('needs header = cookie = the session value on state-changing methods only', () => {
    const bound = hashSecret('c1');
    expect(csrfValid('GET', undefined, undefined, bound)).toBe(true);
    expect(csrfValid('POST', 'c1', 'c1', bound)).toBe(true);
    expect(csrfValid('POST', undefined, 'c1', bound)).toBe(false);
    expect(csrfValid('POST', 'c1', 'c2', bound)).toBe(false);
    // A planted cookie that matches the header but not the session is refused.
    expect(csrfValid('DELETE', 'evil', 'evil', bound)).toBe(false);
  });
});
