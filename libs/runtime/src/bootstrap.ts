import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DynamicModule } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { HttpErrorFilter } from './http/http-error.filter';
import { ServiceFastifyAdapter } from './http/json-body';
import { recordRoutes } from './http/routes';
import { createLogger, PinoNestLogger, type Logger } from './logger';
import type { LogLevel } from './config';

export interface ServiceAppOptions {
  logger: Logger;
  module: DynamicModule;
  /** Largest request body accepted, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Content-type parsers and other Fastify settings. */
  configureFastify?: (fastify: FastifyInstance) => void;
  /** Routes whose JSON bodies the handler receives unparsed, as DeferredJson (json-body.ts). */
  deferredJsonRoutes?: readonly string[];
}

/**
 * The Nest app of a service, not yet listening: Fastify (JSON bodies checked for text PostgreSQL
 * cannot store, json-body.ts), pino for Nest's logs, one error filter, shutdown hooks.
 */
export async function createServiceApp(opts: ServiceAppOptions): Promise<NestFastifyApplication> {
  const bodyLimit = opts.bodyLimit ?? 1024 * 1024;
  const adapter = new ServiceFastifyAdapter({ bodyLimit });
  adapter.deferredJsonRoutes = new Set(opts.deferredJsonRoutes ?? []);
  const fastify = adapter.getInstance() as unknown as FastifyInstance;
  recordRoutes(fastify);
  opts.configureFastify?.(fastify);
  const app = await NestFactory.create<NestFastifyApplication>(opts.module, adapter, {
    logger: new PinoNestLogger(opts.logger.child({ component: 'nest' })),
    abortOnError: false,
  });
  app.useGlobalFilters(new HttpErrorFilter(opts.logger.child({ component: 'http' }), bodyLimit));
  // SIGTERM / SIGINT: stop intake, let modules finish in-flight work, then drain NATS and close the pool.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  return app;
}

export interface RunServiceOptions {
  service: string;
  /** Reads and validates the environment; a failure is logged and the process exits 1. */
  loadConfig: () => { port: number; host: string; logLevel: LogLevel };
  createApp: (logger: Logger) => Promise<NestFastifyApplication>;
}

interface IssueList {
  issues: Array<{ file: string; line: number; column: number; field: string; message: string }>;
}

function hasIssues(err: unknown): err is Error & IssueList {
  return err instanceof Error && Array.isArray((err as Partial<IssueList>).issues);
}

/** A service's main(): config, logger, app, listen; any start-up failure is logged as JSON and exits 1. */
export async function runService(opts: RunServiceOptions): Promise<NestFastifyApplication | undefined> {
  let logger = createLogger(opts.service, 'info');
  try {
    const config = opts.loadConfig();
    logger = createLogger(opts.service, config.logLevel);
    const app = await opts.createApp(logger);
    await app.listen(config.port, config.host);
    logger.info({ port: config.port, host: config.host }, `${opts.service} started`);
    return app;
  } catch (err) {
    if (hasIssues(err)) {
      for (const i of err.issues)
        logger.fatal({ file: i.file, line: i.line, column: i.column, field: i.field }, i.message);
    } else {
      logger.fatal({ err }, `${opts.service} failed to start`);
    }
    logger.flush?.();
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
    return undefined;
  }
}
