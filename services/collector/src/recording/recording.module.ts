import { Module } from '@nestjs/common';
import type { CollectorConfig } from '../config';
import { COLLECTOR_CONFIG } from '../core/tokens';
import { IngestModule } from '../ingest/ingest.module';
import { RecordingService, RULE_GROUPS } from './recording.service';
import { loadRuleFiles } from './rule-file.loader';

/** Recording rules; the rule files are validated while the app is built, before it listens. */
@Module({
  imports: [IngestModule],
  providers: [{ provide: RULE_GROUPS, useFactory: (config: CollectorConfig) => loadRuleFiles(config.ruleFiles), inject: [COLLECTOR_CONFIG] }, RecordingService],
  exports: [RecordingService],
})
export class RecordingModule {}
