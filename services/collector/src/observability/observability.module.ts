import { Global, Module } from '@nestjs/common';
import { CollectorMetrics } from './collector.metrics';
import { ObservabilityController } from './observability.controller';

@Global()
@Module({ controllers: [ObservabilityController], providers: [CollectorMetrics], exports: [CollectorMetrics] })
export class ObservabilityModule {}
