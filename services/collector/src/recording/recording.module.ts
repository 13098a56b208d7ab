import { Module, type DynamicModule } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module';
import { RecordingService, RULE_GROUPS } from './recording.service';
import type { RuleGroup } from '@arcwatch/rules';

/**
 * Recording rules. The groups come already validated: the app factory loads the rule files
 * before anything connects, as it does the scrape configuration.
 */
@Module({})
export class RecordingModule {
  static forRoot(groups: readonly RuleGroup[]): DynamicModule {
    return {
      module: RecordingModule,
      imports: [IngestModule],
      providers: [{ provide: RULE_GROUPS, useValue: groups }, RecordingService],
      exports: [RecordingService],
    };
  }
}
