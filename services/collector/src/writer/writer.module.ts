import { Module } from '@nestjs/common';
import { WriterConsumer } from './writer.consumer';
import { StorageMaintenanceService } from './storage-maintenance.service';
import { WriterService } from './writer.service';

@Module({ providers: [WriterService, WriterConsumer, StorageMaintenanceService], exports: [WriterConsumer] })
export class WriterModule {}
