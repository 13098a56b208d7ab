import type { SpoolStats } from '@arcwatch/gpu-telemetry';
import type { Counter, Gauge, Histogram, MetricsRegistry } from './runtime-lite';

/** The agent's own metrics (GET /metrics); the GPU series themselves travel in the batches. */
export class AgentMetrics {
  readonly batchesBuilt: Counter<'job'>;
  readonly published: Counter<'kind'>;
  readonly publishFailures: Counter;
  readonly spooled: Counter;
  readonly spoolDropped: Counter;
  readonly spoolTornBytes: Counter;
  readonly nvidiaSmiErrors: Counter<'code'>;
  readonly scrapeErrors: Counter<'job'>;
  readonly logErrors: Counter<'kind'>;
  readonly tickSeconds: Histogram;
  private readonly spoolPending: Gauge;
  private readonly spoolBytes: Gauge;
  private readonly natsConnected: Gauge;

  constructor(registry: MetricsRegistry) {
    this.batchesBuilt = registry.counter(
      'arcwatch_agent_batches_built_total',
      'Metrics batches built, per target job.',
      ['job'],
    );
    this.published = registry.counter(
      'arcwatch_agent_published_total',
      'Messages stored by JetStream (batches and gpu-error events).',
      ['kind'],
    );
    this.publishFailures = registry.counter(
      'arcwatch_agent_publish_failures_total',
      'Publishes that failed and went to the spool.',
    );
    this.spooled = registry.counter(
      'arcwatch_agent_spooled_total',
      'Messages written to the disk spool while NATS was unreachable.',
    );
    this.spoolDropped = registry.counter(
      'arcwatch_agent_spool_dropped_total',
      'Spooled messages dropped, oldest first, because the spool was full (or one message was larger than the spool).',
    );
    this.spoolTornBytes = registry.counter(
      'arcwatch_agent_spool_torn_bytes_total',
      'Bytes cut from the spool at start because a write was torn by a crash.',
    );
    this.nvidiaSmiErrors = registry.counter(
      'arcwatch_agent_nvidia_smi_errors_total',
      'nvidia-smi readings that failed, by error code.',
      ['code'],
    );
    this.scrapeErrors = registry.counter(
      'arcwatch_agent_scrape_errors_total',
      'Local exporter or engine scrapes that failed.',
      ['job'],
    );
    this.logErrors = registry.counter('arcwatch_agent_log_errors_total', 'GPU errors read from logs, by kind.', [
      'kind',
    ]);
    this.tickSeconds = registry.histogram(
      'arcwatch_agent_tick_seconds',
      'One interval of work: read, build, publish or spool.',
      [],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    );
    this.spoolPending = registry.gauge('arcwatch_agent_spool_pending', 'Messages in the spool waiting for NATS.');
    this.spoolBytes = registry.gauge('arcwatch_agent_spool_bytes', 'Bytes the spool holds on disk.');
    this.natsConnected = registry.gauge('arcwatch_agent_nats_connected', '1 while the agent is connected to NATS.');
  }

  spool(s: SpoolStats): void {
    this.spoolPending.set(s.pendingRecords);
    this.spoolBytes.set(s.diskBytes);
  }

  connected(up: boolean): void {
    this.natsConnected.set(up ? 1 : 0);
  }
}
