import { UNKNOWN_LABEL } from '@arcwatch/contracts';

/** Who an API key belongs to, from the deployment's key mapping (hashes only). */
export interface KeyOwner {
  tenant: string;
  team?: string;
  project?: string;
}

/** Looks up the owner of a salted API-key hash; undefined for a key nobody configured. */
export type KeyDirectory = (apiKeyHash: string) => KeyOwner | undefined;

export const EMPTY_DIRECTORY: KeyDirectory = () => undefined;

export function directoryFromEntries(entries: ReadonlyArray<KeyOwner & { keyHash: string }>): KeyDirectory {
  const byHash = new Map(entries.map((e) => [e.keyHash, { tenant: e.tenant, team: e.team, project: e.project }]));
  return (hash) => byHash.get(hash);
}

export interface TenantLabels {
  tenant: string;
  team: string;
  project: string;
}

/**
 * Labels the event stated win; what they leave out comes from the key's owner; what neither
 * knows is `unknown`. A request from an unknown key is therefore counted, never dropped.
 */
export function resolveTenant(
  stated: { tenant?: string; team?: string; project?: string },
  apiKeyHash: string | undefined,
  directory: KeyDirectory,
): TenantLabels {
  const owner = apiKeyHash === undefined ? undefined : directory(apiKeyHash);
  // A team or project of the key's owner only applies when the tenant is that owner's.
  const sameTenant = owner !== undefined && (stated.tenant === undefined || stated.tenant === owner.tenant);
  return {
    tenant: stated.tenant ?? owner?.tenant ?? UNKNOWN_LABEL,
    team: stated.team ?? (sameTenant ? owner?.team : undefined) ?? UNKNOWN_LABEL,
    project: stated.project ?? (sameTenant ? owner?.project : undefined) ?? UNKNOWN_LABEL,
  };
}
