import { Controller, Get, Inject, Module, Post, Res, Body, UseGuards, type DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { createLogger, createServiceApp, ManualClock, RuntimeModule } from '@arcwatch/runtime';
import { createTestDatabase, type TestDatabase } from '@arcwatch/testing';
import { sessionCookies, type Principal } from './access';
import { ACCESS_SERVICE, AccessGuard, CurrentPrincipal, Public, Roles } from './access.guard';
import { AccessModule } from './access.module';
import type { AccessService } from './access.service';

@Controller('t')
@UseGuards(AccessGuard)
class ProbeController {
  constructor(@Inject(ACCESS_SERVICE) private readonly access: AccessService) {}

  @Get('read')
  read(@CurrentPrincipal() p: Principal) {
    return { role: p.role, tenant: p.tenant, via: p.via };
  }

  @Post('act')
  @Roles('operator')
  act() {
    return { done: true };
  }

  @Public()
  @Post('login')
  async login(@Body() body: { token: string }, @Res({ passthrough: true }) reply: FastifyReply) {
    const s = await this.access.login(body.token);
    void reply.header('set-cookie', sessionCookies(s, false));
    return { role: s.principal.role };
  }
}

@Module({})
class ProbeModule {
  static forRoot(url: string, clock: ManualClock): DynamicModule {
    const logger = createLogger('access-test', 'silent');
    return {
      module: ProbeModule,
      imports: [
        RuntimeModule.forRoot({
          service: 'access-test',
          logger,
          clock,
          postgres: { url, schema: 'probe', migrations: [] },
        }),
        AccessModule.forRoot({ schema: 'access_t', sessionTtlMs: 60_000 }),
      ],
      controllers: [ProbeController],
    };
  }
}

describe('AccessGuard against the real token store', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let access: AccessService;
  const clock = new ManualClock(Date.parse('2026-12-03T12:00:00Z'));

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createServiceApp({
      logger: createLogger('access-test', 'silent'),
      module: ProbeModule.forRoot(db.url, clock),
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    access = app.get<AccessService>(ACCESS_SERVICE);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  const post = (url: string, headers: Record<string, string> = {}, payload: unknown = {}) =>
    app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });

  it('refuses no token, a malformed header and an unknown token with 401', async () => {
    expect((await get('/t/read')).statusCode).toBe(401);
    expect((await get('/t/read', { authorization: 'Basic x' })).statusCode).toBe(401);
    const r = await get('/t/read', { authorization: 'Bearer aw_not-a-token' });
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('accepts a bearer token with its role and tenant, and enforces the least role', async () => {
    const viewer = await access.issue({ name: 'v', role: 'viewer', tenant: 'acme' });
    const r = await get('/t/read', { authorization: `Bearer ${viewer.token}` });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ role: 'viewer', tenant: 'acme', via: 'bearer' });
    const denied = await post('/t/act', { authorization: `Bearer ${viewer.token}` });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'FORBIDDEN' });
    const op = await access.issue({ name: 'o', role: 'operator' });
    expect((await post('/t/act', { authorization: `Bearer ${op.token}` })).json()).toEqual({ done: true });
  });

  it('stores only the hash: the secret is nowhere in the table', async () => {
    const issued = await access.issue({ name: 'secret-check', role: 'viewer' });
    const { Client } = await import('pg');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const rows = await c.query<{ token_hash: string; hint: string }>(
        `SELECT token_hash, hint FROM access_t.tokens WHERE id = $1`,
        [issued.info.id],
      );
      expect(rows.rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(rows.rows)).not.toContain(issued.token);
    } finally {
      await c.end();
    }
  });

  it('stops accepting a revoked token and its sessions', async () => {
    const t = await access.issue({ name: 'r', role: 'admin' });
    const login = await post('/t/login', {}, { token: t.token });
    const cookie = cookieHeader(login.headers['set-cookie']);
    expect((await get('/t/read', { cookie })).statusCode).toBe(200);
    await access.revoke(t.info.id);
    expect((await get('/t/read', { authorization: `Bearer ${t.token}` })).statusCode).toBe(401);
    expect((await get('/t/read', { cookie })).statusCode).toBe(401);
  });

  it('logs in by token into an HTTP-only SameSite=Strict session; state changes need the CSRF header', async () => {
    const t = await access.issue({ name: 's', role: 'operator', tenant: 'globex' });
    const login = await post('/t/login', {}, { token: t.token });
    expect(login.statusCode).toBe(201);
    const set = [login.headers['set-cookie']].flat() as string[];
    expect(set.find((c) => c.startsWith('aw_session='))).toMatch(/HttpOnly/);
    expect(set.every((c) => c.includes('SameSite=Strict'))).toBe(true);
    const cookie = cookieHeader(set);
    const csrf = /aw_csrf=([^;]+)/.exec(cookie)?.[1] ?? '';

    expect((await get('/t/read', { cookie })).json()).toEqual({ role: 'operator', tenant: 'globex', via: 'session' });
    const noHeader = await post('/t/act', { cookie });
    expect(noHeader.statusCode).toBe(403);
    expect(noHeader.json()).toMatchObject({ code: 'CSRF_FAILED' });
    expect((await post('/t/act', { cookie, 'x-csrf-token': 'forged' })).statusCode).toBe(403);
    expect((await post('/t/act', { cookie, 'x-csrf-token': decodeURIComponent(csrf) })).json()).toEqual({ done: true });
  });

  it('ends sessions when they expire', async () => {
    const t = await access.issue({ name: 'e', role: 'viewer' });
    const cookie = cookieHeader((await post('/t/login', {}, { token: t.token })).headers['set-cookie']);
    expect((await get('/t/read', { cookie })).statusCode).toBe(200);
    clock.advance(61_000);
    expect((await get('/t/read', { cookie })).statusCode).toBe(401);
  });

  it('keeps a configured bootstrap token across restarts and creates a first admin only once', async () => {
    const a = await access.ensureToken('aw_configured-bootstrap-0001', 'admin', 'bootstrap');
    const b = await access.ensureToken('aw_configured-bootstrap-0001', 'admin', 'bootstrap');
    expect(b.id).toBe(a.id);
    expect(await access.bootstrapAdmin()).toBeUndefined();
    expect((await get('/t/read', { authorization: 'Bearer aw_configured-bootstrap-0001' })).json()).toMatchObject({
      role: 'admin',
      tenant: null,
    });
  });
});

function cookieHeader(setCookie: string | string[] | undefined): string {
  return [setCookie ?? []]
    .flat()
    .map((c) => c.split(';')[0])
    .join('; ');
}
