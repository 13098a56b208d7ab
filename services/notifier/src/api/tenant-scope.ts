import { AccessError, canSeeTenant, type Principal } from '@arcwatch/access';
import type { Silence } from '@arcwatch/alertmanager';

/**
 * Tenant scope in the notifier (docs/access.md). An alert belongs to the tenant of its `tenant`
 * label; a silence to the tenant its matchers pin with `tenant="<t>"` (equality, not a regex),
 * since only such a silence cannot reach another tenant's alerts. A scoped token sees and changes
 * only its tenant's alerts and silences; alerts without a tenant label are fleet-wide and belong
 * to unscoped tokens.
 */
export function alertVisible(p: Pick<Principal, 'tenant'>, labels: Record<string, string>): boolean {
  return canSeeTenant(p, labels.tenant);
}

export function silenceTenant(s: Pick<Silence, 'matcherSets'>): string | undefined {
  const sets = s.matcherSets;
  if (sets.length === 0) return undefined;
  const pinned = sets.map((set) => set.find((m) => m.name === 'tenant' && m.type === '=')?.value);
  // Every AND-set must pin the same tenant, or some alert of another tenant could match.
  const first = pinned[0];
  return first !== undefined && pinned.every((t) => t === first) ? first : undefined;
}

export function silenceVisible(p: Pick<Principal, 'tenant'>, s: Pick<Silence, 'matcherSets'>): boolean {
  return p.tenant === null || silenceTenant(s) === p.tenant;
}

/** A new silence from a scoped token must pin its own tenant with an equality matcher. */
export function assertSilenceInScope(
  p: Pick<Principal, 'tenant'>,
  matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean | undefined }>,
): void {
  if (p.tenant === null) return;
  const pinned = matchers.some((m) => m.name === 'tenant' && m.value === p.tenant && !m.isRegex && (m.isEqual ?? true));
  if (!pinned)
    throw new AccessError(
      'FORBIDDEN',
      `this token may only silence tenant ${p.tenant}: add the matcher tenant="${p.tenant}"`,
    );
}
