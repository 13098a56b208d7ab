import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import type { ConfigFileV1 } from '@arcwatch/contracts';
import { readConfigText, writeFileAtomic } from '@arcwatch/config-files';
import { EventBus, serveConfigFiles } from '@arcwatch/messaging';
import { InjectLogger, type Logger } from '@arcwatch/runtime';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../config';
import { loadRoutingConfig, ROUTING_CONFIG, type RoutingConfig } from './routing-config';

/** Every notifier process (api and worker alike) reloads from disk when one of them applied a file. */
export const ROUTING_APPLIED_SUBJECT = 'aw.evt.notifier.config-files.applied';

/**
 * The console's editor for the routing file (NOTIFIER_CONFIG: routes, receivers, inhibition,
 * an `arcwatch:` block) and the escalation file (NOTIFIER_ARCWATCH_CONFIG). New text is checked
 * with the loader the start uses (Alertmanager's rules, templates included), written over the file,
 * and the routing object every part of the notifier shares is replaced in place: the next
 * dispatch pass routes with it and escalations read the new policies.
 */
@Injectable()
export class RoutingFilesResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private subs: Subscription[] = [];

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    @Inject(ROUTING_CONFIG) private readonly routing: RoutingConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.subs = serveConfigFiles(this.bus, 'notifier', this, this.logger);
    this.subs.push(
      this.bus.nc.subscribe(this.bus.naming.toWire(ROUTING_APPLIED_SUBJECT), {
        callback: () => {
          try {
            this.install(loadRoutingConfig(this.config));
          } catch (err) {
            this.logger.error({ err }, 'routing files changed on disk but do not load; the routing in force stays');
          }
        },
      }),
    );
  }

  onModuleDestroy(): void {
    for (const s of this.subs) s.unsubscribe();
  }

  files(): ConfigFileV1[] {
    const out: ConfigFileV1[] = [];
    if (this.config.configFile)
      out.push({ kind: 'routing', file: this.config.configFile, text: readConfigText(this.config.configFile) });
    if (this.config.arcwatchFile)
      out.push({ kind: 'escalation', file: this.config.arcwatchFile, text: readConfigText(this.config.arcwatchFile) });
    return out;
  }

  async apply(file: string, text: string): Promise<string> {
    const next = loadRoutingConfig(this.config, (f) => (f === file ? text : readConfigText(f)));
    writeFileAtomic(file, text);
    this.install(next);
    this.bus.nc.publish(this.bus.naming.toWire(ROUTING_APPLIED_SUBJECT), JSON.stringify({ file }));
    const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
    return `${n(next.am.receivers.length, 'receiver')}, ${n(next.arcwatch.escalationPolicies.length, 'escalation policy').replace('policys', 'policies')}`;
  }

  private install(next: RoutingConfig): void {
    Object.assign(this.routing, next);
  }
}
