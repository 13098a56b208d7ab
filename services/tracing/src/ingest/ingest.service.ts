import { Inject, Injectable } from '@nestjs/common';
import { EventBus } from '@arcwatch/messaging';
import { REQUEST_EVENT_BATCH_MAX, UNKNOWN_LABEL, type RequestEventV1 } from '@arcwatch/contracts';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { KEY_DIRECTORY } from '../assembly/key-directory.provider';
import type { KeyDirectory } from '@arcwatch/request-assembly';
import { TracingMetrics } from '../metrics';
import { decodeOtlpProtobuf } from '../otlp/otlp-trace.proto';
import { mapOtlpTraces } from '../otlp/otlp.mapper';
import { TracingError } from '../errors';
import { normalizeEventInput } from '@arcwatch/request-assembly';
import { eventMessages } from './event-messages';

export interface BatchResult {
  accepted: number;
  rejected: Array<{ index: number; error: string }>;
}

export interface OtlpResult {
  rejectedSpans: number;
  errorMessage: string;
}

/**
 * HTTP and OTLP ingest: validate, hash raw API keys, publish to JetStream. A 2xx means the
 * stream stored the events; assembly happens behind the stream, like for any other emitter.
 */
@Injectable()
export class IngestService {
  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(TRACING_CONFIG) private readonly config: TracingConfig,
    @Inject(KEY_DIRECTORY) private readonly directory: KeyDirectory,
    private readonly metrics: TracingMetrics,
  ) {}

  async ingestBatch(body: unknown): Promise<BatchResult> {
    const items = (body as { events?: unknown } | null)?.events;
    if (!Array.isArray(items)) throw new TracingError('BATCH_INVALID', 'body must be {"events": [ … ]}');
    if (items.length > REQUEST_EVENT_BATCH_MAX) {
      throw new TracingError(
        'BATCH_TOO_LARGE',
        `${items.length} events in one batch; at most ${REQUEST_EVENT_BATCH_MAX}`,
      );
    }
    const rejected: BatchResult['rejected'] = [];
    const events: RequestEventV1[] = [];
    items.forEach((item, index) => {
      const r = normalizeEventInput(item, this.config.apiKeySalt);
      if (r.ok) events.push(r.event);
      else rejected.push({ index, error: r.error });
    });
    this.metrics.inc('events_rejected', rejected.length);
    await this.publish(events);
    return { accepted: events.length, rejected };
  }

  async ingestOtlp(body: unknown, contentType: string): Promise<OtlpResult> {
    let json: unknown = body;
    if (contentType.startsWith('application/x-protobuf')) {
      if (!Buffer.isBuffer(body)) throw new TracingError('OTLP_INVALID', 'protobuf body missing');
      try {
        json = decodeOtlpProtobuf(body);
      } catch (err) {
        throw new TracingError('OTLP_INVALID', `not an OTLP ExportTraceServiceRequest: ${(err as Error).message}`);
      }
    } else if (!contentType.startsWith('application/json')) {
      throw new TracingError(
        'UNSUPPORTED_MEDIA_TYPE',
        `content type ${contentType || '(none)'}: use application/json or application/x-protobuf`,
      );
    }
    const mapped = mapOtlpTraces(json);
    if ('error' in mapped) throw new TracingError('OTLP_INVALID', mapped.error);
    this.metrics.inc('otlp_spans_mapped', mapped.mappedSpans);
    this.metrics.inc('otlp_spans_skipped', mapped.skippedSpans);
    this.metrics.inc('otlp_spans_rejected', mapped.rejected.length);
    await this.publish(mapped.events);
    return {
      rejectedSpans: mapped.rejected.length,
      errorMessage: mapped.rejected
        .slice(0, 5)
        .map((r) => `${r.span}: ${r.error}`)
        .join('; '),
    };
  }

  /** See eventMessages: batch messages by default, one per event when configured so. */
  private async publish(events: RequestEventV1[]): Promise<void> {
    if (events.length === 0) return;
    await this.bus.publishMany(eventMessages(events, this.config.ingestEventsPerMessage, (e) => this.tenantOf(e)));
  }

  private tenantOf(e: RequestEventV1): string {
    return e.tenant ?? (e.apiKeyHash ? this.directory(e.apiKeyHash)?.tenant : undefined) ?? UNKNOWN_LABEL;
  }
}
