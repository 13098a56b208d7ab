import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createLogger, createServiceApp, type Clock, type Logger } from '@arcwatch/runtime';
import type { ConsoleConfig } from './config';
import { ConsoleModule } from './console.module';
import type { AdminTokenSink } from './session/bootstrap-admin';
import { serveStatic } from './web/static-files';

/** Where `vite build --config services/console/web/vite.config.ts` writes the app. */
export const DEFAULT_WEB_DIR = path.resolve(__dirname, '..', 'web', 'dist');

export interface CreateConsoleOptions {
  config: ConsoleConfig;
  logger?: Logger;
  clock?: Clock;
  printAdminToken?: AdminTokenSink;
}

export async function createConsoleApp(opts: CreateConsoleOptions): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger('console', opts.config.logLevel);
  const webDir = opts.config.webDir ?? DEFAULT_WEB_DIR;
  return createServiceApp({
    logger,
    module: ConsoleModule.forRoot({ ...opts, logger }),
    // The single-page app: every path that is not an API route. Nest's routes are more specific
    // and win; an unknown /api/ path keeps the API's 404 body.
    configureFastify: (fastify) => {
      const handler = async (req: FastifyRequest, reply: FastifyReply) => {
        if (req.url.startsWith('/api/'))
          return reply
            .status(404)
            .send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
        const r = await serveStatic(webDir, req.url);
        return reply.status(r.status).headers(r.headers).send(r.body);
      };
      fastify.get('/', handler);
      fastify.get('/*', handler);
    },
  });
}
