import { Module } from '@nestjs/common';
import { BatchPublisher } from './batch.publisher';

@Module({ providers: [BatchPublisher], exports: [BatchPublisher] })
export class IngestModule {}
