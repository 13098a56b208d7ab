import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module';
import { ScrapeManager } from './scrape.manager';

@Module({ imports: [IngestModule], providers: [ScrapeManager], exports: [ScrapeManager] })
export class ScrapeModule {}
