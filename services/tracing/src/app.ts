import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TracingModule, type TracingModuleOptions } from './tracing.module';

/** 10,000 events of a few hundred bytes each, with room to spare. */
const BODY_LIMIT_BYTES = 32 * 1024 * 1024;

export async function createTracingApp(opts: TracingModuleOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(TracingModule.forRoot(opts), new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }), {
    logger: opts.config.logLevel === 'silent' ? false : ['error', 'warn', 'log'],
  });
  // OTLP/HTTP protobuf bodies arrive raw; the controller decodes them.
  app
    .getHttpAdapter()
    .getInstance()
    .addContentTypeParser('application/x-protobuf', { parseAs: 'buffer' }, (_req: unknown, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body));
  app.enableShutdownHooks();
  return app;
}
