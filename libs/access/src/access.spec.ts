import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSecret } from './access-config';
import {
  assertCanSee,
  bearerToken,
  canSeeTenant,
  csrfValid,
  effectiveTenant,
  generateToken,
  hashSecret,
  parseCookies,
  requireUnscoped,
  roleAllows,
  scopeQuery,
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

describe('the token of an Authorization header', () => {
  it('reads Bearer, and Basic with the token as the password', () => {
    expect(bearerToken('Bearer aw_x')).toBe('aw_x');
    expect(bearerToken(`Basic ${Buffer.from('promtool:aw_y').toString('base64')}`)).toBe('aw_y');
    expect(bearerToken(`Basic ${Buffer.from('user-only').toString('base64')}`)).toBeUndefined();
    expect(bearerToken(`Basic ${Buffer.from('user:').toString('base64')}`)).toBeUndefined();
    expect(bearerToken('Digest abc')).toBeUndefined();
  });
});

describe('the ingest role', () => {
  it('pushes only; an admin may push too; nobody else may', () => {
    expect(roleAllows('ingest', 'ingest')).toBe(true);
    expect(roleAllows('admin', 'ingest')).toBe(true);
    expect(roleAllows('operator', 'ingest')).toBe(false);
    expect(roleAllows('viewer', 'ingest')).toBe(false);
    expect(roleAllows('ingest', 'viewer')).toBe(false);
    expect(roleAllows('ingest', 'admin')).toBe(false);
  });
});

describe('tenant scope of a route', () => {
  it('fills in the scoped tenant, keeps an unscoped query, refuses another tenant', () => {
    expect(scopeQuery({ tenant: 'acme' }, { model: 'm' })).toEqual({ model: 'm', tenant: 'acme' });
    expect(scopeQuery({ tenant: null }, { model: 'm' })).toEqual({ model: 'm' });
    expect(scopeQuery({ tenant: null }, { tenant: 'globex' })).toEqual({ tenant: 'globex' });
    expect(() => scopeQuery({ tenant: 'acme' }, { tenant: 'globex' })).toThrow('only read tenant acme');
    expect(scopeQuery({ tenant: 'acme' }, { owner: '' }, 'owner')).toEqual({ owner: 'acme' });
  });

  it("refuses fleet-wide views to scoped tokens and hides other tenants' records as missing", () => {
    expect(() => requireUnscoped({ tenant: 'acme' }, 'prices')).toThrow('prices spans every tenant');
    expect(() => requireUnscoped({ tenant: null }, 'prices')).not.toThrow();
    expect(() => assertCanSee({ tenant: 'acme' }, 'globex', 'request r1')).toThrow('request r1 not found');
    expect(() => assertCanSee({ tenant: 'acme' }, 'acme', 'request r1')).not.toThrow();
  });
});

describe('secrets from the environment or a file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-secret-'));
  it('reads the file without its trailing newline and refuses both at once or an empty file', () => {
    const file = path.join(dir, 'token');
    writeFileSync(file, 'aw_from_file_0123456789\n');
    expect(readSecret(undefined, file, 'AUTH_BOOTSTRAP_TOKEN')).toBe('aw_from_file_0123456789');
    expect(readSecret('direct', undefined, 'AUTH_BOOTSTRAP_TOKEN')).toBe('direct');
    expect(readSecret(undefined, undefined, 'AUTH_BOOTSTRAP_TOKEN')).toBeUndefined();
    expect(() => readSecret('a', file, 'AUTH_BOOTSTRAP_TOKEN')).toThrow('both set');
    writeFileSync(file, '\n');
    expect(() => readSecret(undefined, file, 'AUTH_INGEST_TOKEN')).toThrow('AUTH_INGEST_TOKEN_FILE');
    expect(() => readSecret(undefined, path.join(dir, 'missing'), 'AUTH_INGEST_TOKEN')).toThrow('cannot read');
  });
});
