import { Module } from '@nestjs/common';
import { QueryController } from './query.controller';
import { QueryTiming } from './query-timing';
import { QueryService } from './query.service';

/** The Prometheus-compatible query API; needs the sample store, so it lives where the writer does. */
@Module({ controllers: [QueryController], providers: [QueryService, QueryTiming], exports: [QueryService] })
export class QueryModule {}
