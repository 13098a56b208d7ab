import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  applyConfigFileReplyV1Schema,
  configFilesReplyV1Schema,
  configFileSubjects,
  type ApplyConfigFileReplyV1,
  type ConfigFileService,
  type ConfigFileV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { natsAuth } from '@arcwatch/runtime';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config';
import { ConsoleError } from '../errors';

/**
 * Asks the services that own configuration files for them, and to apply an edit, over NATS
 * request/reply. The connection is made on first use and kept: the console's other pages use
 * HTTP and do not need NATS, so NATS being away only makes the editor say so.
 */
@Injectable()
export class ConfigFilesClient implements OnModuleDestroy {
  private readonly logger = new Logger(ConfigFilesClient.name);
  private bus: Promise<EventBus> | undefined;

  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {}

  async onModuleDestroy(): Promise<void> {
    const bus = await this.bus?.catch(() => undefined);
    await bus?.drain().catch(() => undefined);
  }

  async files(service: ConfigFileService): Promise<ConfigFileV1[]> {
    const reply = configFilesReplyV1Schema.safeParse(await this.request(service, configFileSubjects(service).read, {}));
    if (!reply.success) throw this.unavailable(service, 'answered something that is not a list of files');
    return reply.data.files;
  }

  async apply(service: ConfigFileService, file: string, text: string, actor: string): Promise<ApplyConfigFileReplyV1> {
    const body = { file, text, actor };
    const reply = applyConfigFileReplyV1Schema.safeParse(
      await this.request(service, configFileSubjects(service).apply, body),
    );
    if (!reply.success) throw this.unavailable(service, 'answered something that is not an apply result');
    return reply.data;
  }

  private async request(service: ConfigFileService, subject: string, body: unknown): Promise<unknown> {
    let bus: EventBus;
    try {
      this.bus ??= EventBus.connect({
        url: this.config.natsUrl,
        name: 'console',
        namespace: this.config.natsNamespace,
        // The console's own NATS user (infra/nats/users.conf) may only ask for configuration files.
        ...natsAuth(this.config),
      });
      bus = await this.bus;
    } catch (err) {
      this.bus = undefined;
      throw this.unavailable(service, `NATS: ${(err as Error).message}`);
    }
    try {
      const msg = await bus.nc.request(bus.naming.toWire(subject), JSON.stringify(body), {
        // Applying reloads rules or routing: give it more than a read.
        timeout: Math.max(this.config.upstreamTimeoutMs, 5_000),
      });
      return msg.json<unknown>();
    } catch (err) {
      this.logger.warn(`${subject}: ${(err as Error).message}`);
      throw this.unavailable(service, `no answer on ${subject}: ${(err as Error).message}`);
    }
  }

  private unavailable(service: string, message: string): ConsoleError {
    return new ConsoleError('UPSTREAM_UNAVAILABLE', `${service} ${message}`, { expose: true, details: { service } });
  }
}
