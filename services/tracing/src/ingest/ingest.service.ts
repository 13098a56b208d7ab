import { Inject, Injectable } from '@nestjs/common';
import { EventBus, MessagingError } from '@arcwatch/messaging';
import type { RequestEventV1 } from '@arcwatch/contracts';
import { DeferredJson } from '@arcwatch/runtime';
import { TRACING_CONFIG, type TracingConfig } from '../config';
import { KEY_DIRECTORY } from '../assembly/key-directory.provider';
import type { KeyDirectory } from '@arcwatch/request-assembly';
import { TracingMetrics } from '../metrics';
import { decodeOtlpProtobuf } from '../otlp/otlp-trace.proto';
import { mapOtlpTraces } from '../otlp/otlp.mapper';
import { TracingError } from '../errors';
import { prepareBatch, serializedEventMessages, type BatchResult } from './ingest-batch';
import { IngestThreads } from './ingest-threads';

export type { BatchResult } from './ingest-batch';

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
    private readonly threads: IngestThreads,
  ) {}

  /**
   * A POST of lifecycle events: on an ingest thread when the body came unparsed (the route's
   * bodies do when TRACING_INGEST_THREADS > 0), else here; the same steps and answers either way.
   */
  async ingestBatch(body: unknown): Promise<BatchResult> {
    if (body instanceof DeferredJson) return this.onThread(body);
    const prepared = prepareBatch(body, {
      apiKeySalt: this.config.apiKeySalt,
      perMessage: this.config.ingestEventsPerMessage,
      directory: this.directory,
    });
    if ('refused' in prepared) throw new TracingError(prepared.refused.code, prepared.refused.message);
    this.metrics.inc('events_rejected', prepared.rejected.length);
    if (prepared.messages.length > 0) await this.bus.publishMany(prepared.messages);
    return { accepted: prepared.accepted, rejected: prepared.rejected };
  }

  private async onThread(body: DeferredJson): Promise<BatchResult> {
    const answer = await this.threads.submit(body.bytes);
    switch (answer.type) {
      case 'done':
        this.metrics.inc('events_rejected', answer.rejected.length);
        return { accepted: answer.accepted, rejected: answer.rejected };
      case 'refused':
        throw new TracingError(answer.code, answer.message);
      case 'not-json':
        // Fastify's parser on the same bytes (the thread gives them back: they were moved to it)
        // throws the error it answers malformed JSON with.
        return this.ingestBatch(
          body.parse(Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength)),
        );
      case 'failed':
        throw new MessagingError(answer.code ?? 'PUBLISH_FAILED', answer.message);
    }
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
    await this.bus.publishMany(
      serializedEventMessages(events, { perMessage: this.config.ingestEventsPerMessage, directory: this.directory }),
    );
  }
}
