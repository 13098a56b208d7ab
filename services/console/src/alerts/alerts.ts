import { z } from 'zod';
import { AccessError, type Principal } from '@arcwatch/access';

/** The label that names an alert's tenant (as the alert rules and the notifier write it). */
export const TENANT_LABEL = 'tenant';

/** A scoped caller sees an alert only when it carries its tenant's label. */
export function visibleAlert(p: Pick<Principal, 'tenant'>, labels: Record<string, string> | undefined): boolean {
  return p.tenant === null || labels?.[TENANT_LABEL] === p.tenant;
}

const matcherSchema = z.object({
  name: z.string().min(1),
  value: z.string(),
  isRegex: z.boolean().default(false),
  isEqual: z.boolean().default(true),
});
export type SilenceMatcher = z.infer<typeof matcherSchema>;

/** What the console accepts for a new silence; the author is the caller. */
export const newSilenceSchema = z.object({
  matchers: z.array(matcherSchema).min(1),
  durationMinutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 30)
    .default(120),
  comment: z.string().min(1).max(1000),
});

/**
 * The matchers of a silence a caller may create: a scoped caller's silence always carries
 * `tenant="<its tenant>"` (added when missing), so it can only mute its own tenant's alerts;
 * naming another tenant, or matching the tenant label by regex or negation, is refused.
 */
export function scopedMatchers(p: Pick<Principal, 'tenant'>, matchers: SilenceMatcher[]): SilenceMatcher[] {
  if (p.tenant === null) return matchers;
  const own = matchers.filter((m) => m.name === TENANT_LABEL);
  for (const m of own) {
    if (m.isRegex || !m.isEqual || m.value !== p.tenant)
      throw new AccessError('FORBIDDEN', `a silence of this token must match ${TENANT_LABEL}="${p.tenant}" exactly`);
  }
  return own.length > 0
    ? matchers
    : [...matchers, { name: TENANT_LABEL, value: p.tenant, isRegex: false, isEqual: true }];
}

/** A silence is visible to a scoped caller when it is pinned to its tenant. */
export function visibleSilence(
  p: Pick<Principal, 'tenant'>,
  matchers: Array<{ name: string; value: string; isRegex?: boolean; isEqual?: boolean }>,
): boolean {
  return (
    p.tenant === null ||
    matchers.some((m) => m.name === TENANT_LABEL && m.value === p.tenant && !m.isRegex && m.isEqual !== false)
  );
}
