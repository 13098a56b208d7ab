import 'reflect-metadata';
import { createTracingApp } from './app';
import { loadTracingConfig } from './config';

async function bootstrap(): Promise<void> {
  const config = loadTracingConfig();
  const app = await createTracingApp({ config });
  await app.listen(config.port, config.host);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`tracing: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
