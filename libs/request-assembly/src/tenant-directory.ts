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
 * A known API key decides the tenant: a tenant stated on the event never overrides it (a caller
 * cannot bill or read as someone else by naming them). Team and project come from the key's
 * owner where it fixes them, else from the event. Without a known key the event's labels stand;
 * what nobody knows is `unknown`, so a request from an unknown key is counted, never dropped.
 */
export function resolveTenant(
  stated: { tenant?: string; team?: string; project?: string },
  apiKeyHash: string | undefined,
  directory: KeyDirectory,
): TenantLabels {
  const owner = apiKeyHash === undefined ? undefined : directory(apiKeyHash);
  if (owner) {
    return {
      tenant: owner.tenant,
      team: owner.team ?? stated.team ?? UNKNOWN_LABEL,
      project: owner.project ?? stated.project ?? UNKNOWN_LABEL,
    };
  }
  return {
    tenant: stated.tenant ?? UNKNOWN_LABEL,
    team: stated.team ?? UNKNOWN_LABEL,
    project: stated.project ?? UNKNOWN_LABEL,
  };
}
