import { Roles } from '@arcwatch/access';
import { Body, Controller, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { CollectorError } from '../errors';
import { ImportService } from './import.service';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const importQuerySchema = z.object({
  extra_label: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});

export function parseExtraLabels(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    const name = i > 0 ? v.slice(0, i) : '';
    if (!LABEL_NAME.test(name))
      throw new CollectorError('BODY_INVALID', `extra_label "${v}": expected name=value with a valid label name`);
    if (v.includes('\u0000'))
      throw new CollectorError('BODY_INVALID', `extra_label "${name}": contains a NUL character`);
    out[name] = v.slice(i + 1);
  }
  return out;
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body === undefined || body === null) return '';
  throw new CollectorError('BODY_INVALID', 'expected a text exposition body');
}

/** Push only: an ingest token (or admin). */
@Roles('ingest')
@Controller('api/v1/import')
export class ImportController {
  constructor(private readonly imports: ImportService) {}

  /**
   * 204 when every line was read; 400 naming the refused lines otherwise (the good lines are
   * stored all the same, so a client must not resend the whole body).
   */
  @Post('prometheus')
  @HttpCode(204)
  async importPrometheus(
    @Body() body: unknown,
    @Query() query: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    const q = importQuerySchema.safeParse(query);
    if (!q.success) throw new CollectorError('BODY_INVALID', `query: ${q.error.issues[0].message}`);
    const result = await this.imports.importText({
      body: bodyText(body),
      contentType,
      extraLabels: parseExtraLabels(q.data.extra_label),
      idempotencyKey,
    });
    if (result.errors.length === 0) return undefined;
    void reply.status(400);
    return {
      status: 'error',
      errorType: 'bad_data',
      error: result.errors
        .slice(0, 20)
        .map((e) => `line ${e.line}: ${e.message}`)
        .join('; '),
      data: { samplesStored: result.samples, linesRefused: result.errors.length },
    };
  }
}
