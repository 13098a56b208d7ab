import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, MetricsRegistry } from './metrics.registry';

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Every metric the collector reports about itself on GET /metrics. */
@Injectable()
export class CollectorMetrics {
  readonly registry = new MetricsRegistry();
  readonly scrapes = this.registry.register(new Counter('arcwatch_collector_scrapes_total', 'Scrapes run, by job and result (ok or the error code).'));
  readonly scrapeDuration = this.registry.register(new Histogram('arcwatch_collector_scrape_duration_seconds', 'Time to fetch and parse one target.', LATENCY_BUCKETS));
  readonly samplesIngested = this.registry.register(new Counter('arcwatch_collector_samples_ingested_total', 'Samples published, by source (scrape, import, remote_write).'));
  readonly parseErrors = this.registry.register(new Counter('arcwatch_collector_parse_errors_total', 'Exposition lines that could not be read, by source.'));
  readonly seriesDroppedByLimit = this.registry.register(new Counter('arcwatch_collector_series_dropped_by_limit_total', 'Series refused by the per-target cardinality guard, by job.'));
  readonly publishes = this.registry.register(new Counter('arcwatch_collector_batches_published_total', 'Batches published to JetStream, by source and result (ok, duplicate, error).'));
  readonly publishLatency = this.registry.register(new Histogram('arcwatch_collector_publish_duration_seconds', 'Time from publish to PubAck.', LATENCY_BUCKETS));
  readonly targets = this.registry.register(new Gauge('arcwatch_collector_targets', 'Active scrape targets, by job.'));
  readonly writerBatches = this.registry.register(new Counter('arcwatch_collector_writer_batches_total', 'Batches the writer handled, by result (stored, poison, error).'));
  readonly writerSamples = this.registry.register(new Counter('arcwatch_collector_writer_samples_total', 'Samples the writer committed to storage.'));
  readonly writerLag = this.registry.register(new Gauge('arcwatch_collector_writer_lag_seconds', 'Age of the last batch the writer committed, from its scrape time.'));
  readonly writerCommit = this.registry.register(new Histogram('arcwatch_collector_writer_commit_duration_seconds', 'Time to store one batch.', LATENCY_BUCKETS));
}
