import { Injectable } from '@nestjs/common';
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '@arcwatch/runtime';

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Sample time → committed: finer around the sub-second target, then minutes for a backlog. */
const FRESHNESS_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300];
const COMPACTION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

/** Every metric the collector reports about itself, on the runtime's registry (GET /metrics). */
@Injectable()
export class CollectorMetrics {
  readonly scrapes: Counter<'job' | 'result'>;
  readonly scrapeDuration: Histogram<'job'>;
  readonly samplesIngested: Counter<'source'>;
  readonly parseErrors: Counter<'source'>;
  readonly seriesDroppedByLimit: Counter<'job'>;
  readonly publishes: Counter<'source' | 'result'>;
  readonly publishLatency: Histogram;
  readonly targets: Gauge<'job'>;
  readonly writerBatches: Counter<'result'>;
  readonly writerSamples: Counter;
  readonly writerLag: Gauge;
  readonly writerCommit: Histogram;
  readonly writerFreshness: Histogram;
  readonly compactionDuration: Histogram;
  readonly compactedSamples: Counter;
  readonly queryPhase: Histogram<'endpoint' | 'phase'>;

  constructor(registry: MetricsRegistry) {
    this.scrapes = registry.counter(
      'arcwatch_collector_scrapes_total',
      'Scrapes run, by job and result (ok or the error code).',
      ['job', 'result'],
    );
    this.scrapeDuration = registry.histogram(
      'arcwatch_collector_scrape_duration_seconds',
      'Time to fetch and parse one target.',
      ['job'],
      LATENCY_BUCKETS,
    );
    this.samplesIngested = registry.counter(
      'arcwatch_collector_samples_ingested_total',
      'Samples published, by source (scrape, import, remote_write).',
      ['source'],
    );
    this.parseErrors = registry.counter(
      'arcwatch_collector_parse_errors_total',
      'Exposition lines that could not be read, by source.',
      ['source'],
    );
    this.seriesDroppedByLimit = registry.counter(
      'arcwatch_collector_series_dropped_by_limit_total',
      'Series refused by the per-target cardinality guard, by job.',
      ['job'],
    );
    this.publishes = registry.counter(
      'arcwatch_collector_batches_published_total',
      'Batches published to JetStream, by source and result (ok, duplicate, error).',
      ['source', 'result'],
    );
    this.publishLatency = registry.histogram(
      'arcwatch_collector_publish_duration_seconds',
      'Time from publish to PubAck.',
      [],
      LATENCY_BUCKETS,
    );
    this.targets = registry.gauge('arcwatch_collector_targets', 'Active scrape targets, by job.', ['job']);
    this.writerBatches = registry.counter(
      'arcwatch_collector_writer_batches_total',
      'Batches the writer handled, by result (stored, duplicate, poison, series_limit, error).',
      ['result'],
    );
    this.writerSamples = registry.counter(
      'arcwatch_collector_writer_samples_total',
      'Samples the writer committed to storage.',
    );
    this.writerLag = registry.gauge(
      'arcwatch_collector_writer_lag_seconds',
      'Age of the last batch the writer committed, from its scrape time.',
    );
    this.writerCommit = registry.histogram(
      'arcwatch_collector_writer_commit_duration_seconds',
      'Time to store one batch.',
      [],
      LATENCY_BUCKETS,
    );
    this.writerFreshness = registry.histogram(
      'arcwatch_collector_writer_freshness_seconds',
      "Per batch stored, from its samples' time (the scrape or push time when they carry several) to the commit that made them queryable.",
      [],
      FRESHNESS_BUCKETS,
    );
    this.compactionDuration = registry.histogram(
      'arcwatch_collector_compaction_duration_seconds',
      'Time of one compaction pass that folded head rows into chunks.',
      [],
      COMPACTION_BUCKETS,
    );
    this.compactedSamples = registry.counter(
      'arcwatch_collector_compacted_samples_total',
      'Samples folded from the head into chunks.',
    );
    this.queryPhase = registry.histogram(
      'arcwatch_collector_query_phase_seconds',
      'Time of each phase of a query request, by endpoint (query, query_range) and phase: select (parse, plan, read storage), eval, serialize (the API shape as JSON), send (body to the socket).',
      ['endpoint', 'phase'],
      LATENCY_BUCKETS,
    );
  }
}
