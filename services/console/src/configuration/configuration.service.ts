import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_SERVICE, type AccessService } from '@arcwatch/access';
import { CONFIG_FILE_SERVICES, type ConfigFileService } from '@arcwatch/contracts';
import { ConsoleError } from '../errors';
import { ConfigFilesClient } from './config-files.client';
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
    private readonly configFiles: ConfigFilesClient,
  ) {}

  /** Each owner's files, or why it could not say (one service away leaves the others editable). */
  async files() {
    const services = await Promise.all(
      CONFIG_FILE_SERVICES.map(async (service) => {
        try {
          return { service, files: await this.configFiles.files(service) };
        } catch (err) {
          return { service, unavailable: { service, message: (err as Error).message } };
        }
      }),
    );
    return { services };
  }

  async apply(service: ConfigFileService, file: string, text: string, actor: string) {
    const reply = await this.configFiles.apply(service, file, text, actor);
    if (!reply.ok)
      throw new ConsoleError('CONFIG_REJECTED', `${service} refused ${file}: ${reply.errors.length} problem(s)`, {
        details: { service, errors: reply.errors },
      });
    return reply;
  }

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
