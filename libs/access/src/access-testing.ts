import type { AccessService } from './access.service';

/** Tests only: a token per role, and per role one scoped to `tenant` (the route-table specs' tokens). */
export async function issueRouteTokens(
  access: AccessService,
  tenant: string,
  admin: string,
): Promise<{
  viewer: string;
  operator: string;
  admin: string;
  ingest: string;
  scoped: { viewer: string; operator: string; admin: string };
}> {
  const issue = async (role: 'viewer' | 'operator' | 'admin' | 'ingest', scope: string | null) =>
    (await access.issue({ name: `route test ${role}${scope ? ` ${scope}` : ''}`, role, tenant: scope })).token;
  return {
    viewer: await issue('viewer', null),
    operator: await issue('operator', null),
    admin,
    ingest: await issue('ingest', null),
    scoped: {
      viewer: await issue('viewer', tenant),
      operator: await issue('operator', tenant),
      admin: await issue('admin', tenant),
    },
  };
}
