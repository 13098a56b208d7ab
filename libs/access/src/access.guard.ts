import {
  Inject,
  Injectable,
  SetMetadata,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { PUBLIC_ROUTE } from '@arcwatch/runtime';
import {
  AccessError,
  CSRF_COOKIE,
  CSRF_HEADER,
  SESSION_COOKIE,
  bearerToken,
  csrfValid,
  parseCookies,
  requireUnscoped,
  roleAllows,
  type Principal,
  type Role,
} from './access';
import { AccessService } from './access.service';

export const ACCESS_SERVICE = Symbol('ACCESS_SERVICE');
const ROLE_KEY = 'arcwatch:access:role';
const ALL_TENANTS_KEY = 'arcwatch:access:all-tenants';

/** The least role a handler (or every handler of a controller) needs; `viewer` when not set. */
export const Roles = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(ROLE_KEY, role);
/**
 * Handlers over every tenant's data at once (the metrics API, configuration): a token scoped to
 * one tenant is refused with 403 naming `what`.
 */
export const AllTenants = (what: string): MethodDecorator & ClassDecorator => SetMetadata(ALL_TENANTS_KEY, what);
/** A handler anyone may call (login, the page shell, probes); the runtime's decorator. */
export { Public } from '@arcwatch/runtime';

type RequestWithPrincipal = FastifyRequest & { principal?: Principal };

/** The caller, as the guard authenticated it. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const p = ctx.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (!p) throw new AccessError('UNAUTHENTICATED', 'no principal: is the handler guarded by AccessGuard?');
  return p;
});

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Authenticates `Authorization: Bearer <token>` or the session cookie and checks the role.
 * Session callers must send the CSRF header on state-changing methods; bearer callers need not
 * (a browser never attaches an Authorization header by itself).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ACCESS_SERVICE) private readonly access: AccessService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets)) return true;
    const need = this.reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, targets) ?? 'viewer';
    const req = ctx.switchToHttp().getRequest<RequestWithPrincipal>();
    const principal = await this.principalOf(req);
    if (!roleAllows(principal.role, need))
      throw new AccessError('FORBIDDEN', `needs role ${need}; this token is ${principal.role}`);
    const allTenants = this.reflector.getAllAndOverride<string | undefined>(ALL_TENANTS_KEY, targets);
    if (allTenants !== undefined) requireUnscoped(principal, allTenants);
    // Pushed data names its tenants itself (API keys, labels); a tenant's token may not speak for others.
    if (need === 'ingest' && principal.tenant !== null)
      throw new AccessError(
        'FORBIDDEN',
        `ingest needs a token without a tenant scope; this one is ${principal.tenant}'s`,
      );
    req.principal = principal;
    return true;
  }

  private async principalOf(req: FastifyRequest): Promise<Principal> {
    const auth = header(req, 'authorization');
    if (auth !== undefined) {
      const token = bearerToken(auth);
      if (!token)
        throw new AccessError(
          'UNAUTHENTICATED',
          'Authorization must be "Bearer <token>" (or Basic with the token as password)',
        );
      return this.access.authenticate(token);
    }
    const cookies = parseCookies(header(req, 'cookie'));
    const sessionId = cookies[SESSION_COOKIE];
    if (!sessionId) throw new AccessError('UNAUTHENTICATED', 'log in or send Authorization: Bearer <token>');
    const s = await this.access.session(sessionId);
    if (!s) throw new AccessError('UNAUTHENTICATED', 'session expired; log in again');
    if (!csrfValid(req.method, header(req, CSRF_HEADER), cookies[CSRF_COOKIE], s.csrfHash)) {
      throw new AccessError(
        'CSRF_FAILED',
        `state-changing requests need the ${CSRF_HEADER} header matching the ${CSRF_COOKIE} cookie`,
      );
    }
    return s.principal;
  }
}
