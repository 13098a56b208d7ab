import { Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { QueryTimings } from '@arcwatch/promql';
import { InjectLogger, type Logger } from '@arcwatch/runtime';
import { CollectorMetrics } from '../metrics';

/** A query's answer, already JSON, and where its time went before it was sent. */
export interface TimedAnswer {
  body: string;
  timings: QueryTimings & { serializeMs: number };
}

export type QueryEndpoint = 'query' | 'query_range';

/** New timings, all zero (the engine fills in what it measures). */
export function emptyTimings(): TimedAnswer['timings'] {
  return { selectMs: 0, evalMs: 0, serializeMs: 0 };
}

/** The `Server-Timing` header (milliseconds, as the header's `dur` is): select, eval, serialize. */
export function serverTiming(t: TimedAnswer['timings']): string {
  const dur = (ms: number): string => ms.toFixed(1);
  return `select;dur=${dur(t.selectMs)}, eval;dur=${dur(t.evalMs)}, serialize;dur=${dur(t.serializeMs)}`;
}

/**
 * Sends a query answer and records its spans per request: select, eval and serialize (the API's
 * shape and its JSON; also in a `Server-Timing` header, which a browser's network panel shows), and send, from the
 * body being ready to its last byte handed to the socket, which only the metric and the debug log
 * can hold. The span that is not any of these (routing, the token check, parsing the
 * parameters) is `total` minus their sum.
 */
@Injectable()
export class QueryTiming {
  constructor(
    private readonly metrics: CollectorMetrics,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  send(reply: FastifyReply, endpoint: QueryEndpoint, answer: TimedAnswer): string {
    const t = answer.timings;
    const ready = performance.now();
    void reply.header('content-type', 'application/json; charset=utf-8').header('server-timing', serverTiming(t));
    reply.raw.once('finish', () => {
      const sendMs = performance.now() - ready;
      const phases = { select: t.selectMs, eval: t.evalMs, serialize: t.serializeMs, send: sendMs };
      for (const [phase, ms] of Object.entries(phases)) this.metrics.queryPhase.observe({ endpoint, phase }, ms / 1000);
      this.logger.debug(
        { endpoint, ...phases, totalMs: reply.elapsedTime, bytes: answer.body.length },
        'query timings (ms)',
      );
    });
    return answer.body;
  }
}
