import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { Roles } from '@arcwatch/access';
import type { FastifyReply } from 'fastify';
import { encodeOtlpResponse } from '../otlp/otlp-trace.proto';
import { IngestService, type BatchResult } from './ingest.service';

/** Push only: ingest tokens (and admin); the events name their tenants through their API keys. */
@Roles('ingest')
@Controller()
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  /** Up to 10,000 lifecycle events; 202 with the per-item errors of the ones refused. */
  @Post('api/v1/requests/events')
  @HttpCode(202)
  ingestBatch(@Body() body: unknown): Promise<BatchResult> {
    return this.ingest.ingestBatch(body);
  }

  /** OTLP/HTTP traces, answered in the encoding they came in, as the OTLP spec asks. */
  @Post('v1/traces')
  async ingestTraces(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const ct = (contentType ?? '').toLowerCase();
    const r = await this.ingest.ingestOtlp(body, ct);
    if (ct.startsWith('application/x-protobuf')) {
      await reply
        .status(200)
        .header('content-type', 'application/x-protobuf')
        .send(Buffer.from(encodeOtlpResponse(r.rejectedSpans, r.errorMessage)));
      return;
    }
    await reply
      .status(200)
      .send(
        r.rejectedSpans > 0 ? { partialSuccess: { rejectedSpans: r.rejectedSpans, errorMessage: r.errorMessage } } : {},
      );
  }
}
