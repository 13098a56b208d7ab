import { Module } from '@nestjs/common';
import { WriterConsumer } from './writer.consumer';
import { WriterService } from './writer.service';

@Module({ providers: [WriterService, WriterConsumer], exports: [WriterConsumer] })
export class WriterModule {}
