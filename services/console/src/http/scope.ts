import { AccessError, type Principal } from '@arcwatch/access';

/** Views that span every tenant (fleet-wide costs, configuration, the token list). */
export function requireUnscoped(p: Principal, what: string): void {
  if (p.tenant !== null)
    throw new AccessError('FORBIDDEN', `${what} spans every tenant; this token sees tenant ${p.tenant} only`);
}
