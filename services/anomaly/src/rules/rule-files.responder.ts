import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import { parseAlertRuleFile } from '@arcwatch/alerting';
import type { ConfigFileV1 } from '@arcwatch/contracts';
import { readConfigText, writeFileAtomic } from '@arcwatch/config-files';
import { EventBus, serveConfigFiles } from '@arcwatch/messaging';
import { InjectLogger, type Logger } from '@arcwatch/runtime';
import { ANOMALY_CONFIG, type AnomalyConfig } from '../config';
import { RulesService } from './rules.service';

/**
 * The console's editor for rule files (aw.query.anomaly.config-files / aw.cmd.anomaly.config-files.apply):
 * new text is checked exactly as at start (rulefmt, PromQL, templates), written over the file
 * and loaded at once; alert state moves over by rule key, as on any reload.
 */
@Injectable()
export class RuleFilesResponder implements OnApplicationBootstrap, OnModuleDestroy {
  private subs: Subscription[] = [];

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(ANOMALY_CONFIG) private readonly config: AnomalyConfig,
    private readonly rules: RulesService,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.subs = serveConfigFiles(this.bus, 'anomaly', this, this.logger);
  }

  onModuleDestroy(): void {
    for (const s of this.subs) s.unsubscribe();
  }

  files(): ConfigFileV1[] {
    return this.config.ruleFiles.map((file) => ({ kind: 'rules', file, text: readConfigText(file) }));
  }

  async apply(file: string, text: string): Promise<string> {
    const opts = { defaultIntervalMs: this.config.evaluationIntervalMs };
    const groups = parseAlertRuleFile(text, file, opts);
    writeFileAtomic(file, text);
    // A reload reads every rule file; one that is broken on disk keeps the rules in force.
    if (!(await this.rules.reload())) throw new Error('written, but the rule files did not reload (see the log)');
    const rules = groups.reduce((n, g) => n + g.rules.length, 0);
    return `${groups.length} group${groups.length === 1 ? '' : 's'}, ${rules} rule${rules === 1 ? '' : 's'}`;
  }
}
