import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_SERVICE, type AccessService } from '@arcwatch/access';
import { UPSTREAMS, UpstreamClient, type Outcome, type Upstream } from '../upstream/upstream.client';

function view<T>(o: Outcome<T>): T | { unavailable: { service: string; message: string } } {
  return o.ok ? o.data : { unavailable: { service: o.service, message: o.message } };
}

/** Read views of what each service is configured with, and which services answer. */
@Injectable()
export class ConfigurationService {
  constructor(
    private readonly upstream: UpstreamClient,
    @Inject(ACCESS_SERVICE) private readonly access: AccessService,
  ) {}

  async configuration(includeTokens: boolean) {
    const [prices, rules, notifier, collector] = await Promise.all([
      this.upstream.call<unknown>('billing', 'GET', 'api/v1/prices'),
      this.upstream.call<unknown>('anomaly', 'GET', 'api/v1/rules'),
      this.upstream.call<unknown>('notifier', 'GET', 'api/v2/status'),
      this.upstream.call<unknown>('collector', 'GET', 'api/v1/status/runtimeinfo'),
    ]);
    const tokens = includeTokens
      ? (await this.access.list()).map((t) => ({
          ...t,
          createdAt: t.createdAt.toISOString(),
          lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
          revokedAt: t.revokedAt?.toISOString() ?? null,
        }))
      : null;
    return { prices: view(prices), rules: view(rules), routing: view(notifier), collector: view(collector), tokens };
  }

  /** Each service's /readyz, with its base URL: the console's own health page. */
  async services() {
    const checks = await Promise.all(
      UPSTREAMS.map(async (service: Upstream) => {
        const o = await this.upstream.call<unknown>(service, 'GET', 'readyz');
        return { service, url: this.upstream.base(service), up: o.ok, message: o.ok ? null : o.message };
      }),
    );
    return { services: checks };
  }
}
