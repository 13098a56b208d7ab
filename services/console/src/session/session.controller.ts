import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ACCESS_SERVICE,
  AccessGuard,
  CurrentPrincipal,
  Public,
  Roles,
  SESSION_COOKIE,
  clearedSessionCookies,
  parseCookies,
  sessionCookies,
  type AccessService,
  type Principal,
} from '@arcwatch/access';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config';
import { ConsoleError } from '../errors';
import { requireUnscoped } from '../http/scope';

const loginSchema = z.object({ token: z.string().min(1).max(512) });

/** Login by token into a cookie session, whoami, logout; API tokens for admins. */
@Controller('api/console')
@UseGuards(AccessGuard)
export class SessionController {
  constructor(
    @Inject(ACCESS_SERVICE) private readonly access: AccessService,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  @Public()
  @Post('session')
  @HttpCode(200)
  async login(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const b = loginSchema.safeParse(body ?? {});
    if (!b.success) throw new ConsoleError('VALIDATION_FAILED', 'token: required', { details: { field: 'token' } });
    const s = await this.access.login(b.data.token);
    void reply.header('set-cookie', sessionCookies(s, this.config.secureCookies === true));
    return { principal: publicPrincipal(s.principal), csrf: s.csrf };
  }

  @Get('session')
  whoami(@CurrentPrincipal() p: Principal) {
    return { principal: publicPrincipal(p) };
  }

  @Delete('session')
  @HttpCode(200)
  async logout(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const id = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (id) await this.access.logout(id);
    void reply.header('set-cookie', clearedSessionCookies(this.config.secureCookies === true));
    return { loggedOut: true };
  }

  @Get('tokens')
  @Roles('admin')
  async tokens(@CurrentPrincipal() p: Principal) {
    requireUnscoped(p, 'the token list');
    return { items: await this.access.list() };
  }

  /** { name, role, tenant? } → the token, shown this once. */
  @Post('tokens')
  @Roles('admin')
  async issue(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    requireUnscoped(p, 'issuing tokens');
    const issued = await this.access.issue(
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {},
    );
    return { token: issued.token, info: issued.info };
  }

  @Delete('tokens/:id')
  @Roles('admin')
  @HttpCode(200)
  async revoke(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    requireUnscoped(p, 'revoking tokens');
    await this.access.revoke(id);
    return { revoked: id };
  }
}

function publicPrincipal(p: Principal) {
  return { name: p.name, role: p.role, tenant: p.tenant, via: p.via };
}
