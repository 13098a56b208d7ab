// First: the V8 flags must be set before any other module runs.
import './v8-flags';
import { createAgent, type Agent } from './app';
import { loadAgentEnv } from './config';
import { loadAgentSettings } from './config/agent-settings.loader';
import { createLogger } from './runtime-lite';

interface IssueList {
  issues: Array<{ file: string; line: number; column: number; field: string; message: string }>;
}

/**
 * What runService does for the Nest services, for the agent's plain process: config (errors with
 * file, line and field, exit 1), logger, start, and on SIGTERM / SIGINT the interval in progress
 * finishes, nvidia-smi stops, NATS is drained and whatever is unsent stays in the spool.
 */
async function main(): Promise<void> {
  let logger = createLogger('agent', 'info');
  let agent: Agent;
  try {
    const env = loadAgentEnv();
    logger = createLogger('agent', env.logLevel);
    agent = createAgent({ settings: loadAgentSettings(env), logger });
    const port = await agent.start({ port: env.port, host: env.host });
    logger.info({ port, host: env.host }, 'agent started');
  } catch (err) {
    const issues = (err as Partial<IssueList>).issues;
    if (Array.isArray(issues))
      for (const i of issues) logger.fatal({ file: i.file, line: i.line, column: i.column, field: i.field }, i.message);
    else logger.fatal({ err }, 'agent failed to start');
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
    return;
  }
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'agent stopping');
    agent.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'agent stopped with an error');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
