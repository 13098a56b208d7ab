import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { MetricsRegistry } from './metrics.registry';

@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get('metrics')
  async render(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.metrics.render();
    await reply.header('content-type', this.metrics.contentType).send(text);
  }
}
