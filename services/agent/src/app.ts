import type { AddressInfo } from 'node:net';
import { AgentLoop } from './agent.loop';
import { CollectService } from './collect/collect.service';
import type { AgentSettings } from './config/agent-settings.loader';
import { DeliveryService } from './delivery/delivery.service';
import { createAgentHttp, type AgentHttp } from './http/agent-http';
import { AgentMetrics } from './metrics';
import { createLogger, MetricsRegistry, systemClock, type Clock, type Logger, type LogLevel } from './runtime-lite';

export interface CreateAgentOptions {
  settings: AgentSettings;
  logLevel?: LogLevel;
  logger?: Logger;
  clock?: Clock;
  /** Tests drive intervals themselves (`agent.loop.tick()`). */
  disableTimer?: boolean;
}

/**
 * The agent, wired by hand: settings, logger, clock and metrics registry (libs/runtime's), the
 * collector of one interval, publish-or-spool delivery, the interval loop and a plain HTTP server
 * for /healthz, /readyz and /metrics. No Nest container: the agent has no database, no
 * controllers beyond those three routes and must stay small (docs/decisions/0006-agent-runtime.md).
 */
export class Agent {
  readonly registry: MetricsRegistry;
  readonly metrics: AgentMetrics;
  readonly delivery: DeliveryService;
  readonly collect: CollectService;
  readonly loop: AgentLoop;
  private http: AgentHttp | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly settings: AgentSettings,
    readonly logger: Logger,
    readonly clock: Clock,
    private readonly timerDisabled: boolean,
  ) {
    // Event-loop delay sampled once a second, not every 10 ms (docs/decisions/0006-agent-runtime.md).
    this.registry = new MetricsRegistry('agent', { eventLoopMonitoringPrecisionMs: 1000 });
    this.metrics = new AgentMetrics(this.registry);
    this.delivery = new DeliveryService(settings, this.metrics, logger);
    this.collect = new CollectService(settings, this.metrics, logger);
    this.loop = new AgentLoop(settings, this.collect, this.delivery, this.metrics, clock, logger);
  }

  /** Starts the interval (unless tests drive it) and, given a port, the HTTP server; resolves with the port. */
  async start(listen?: { port: number; host: string }): Promise<number | undefined> {
    if (!this.timerDisabled) this.loop.start();
    if (!listen) return undefined;
    if (this.settings.metricsToken === undefined)
      this.logger.warn('GET /metrics is open: set AGENT_METRICS_TOKEN (or _FILE) for the token scrapes must send');
    this.http = createAgentHttp(
      this.registry,
      this.logger,
      this.settings.metricsToken === undefined ? {} : { metricsToken: this.settings.metricsToken },
    );
    await new Promise<void>((resolve, reject) => {
      this.http!.server.once('error', reject);
      this.http!.server.listen(listen.port, listen.host, () => resolve());
    });
    return (this.http.server.address() as AddressInfo).port;
  }

  /** Intake stops first (HTTP, the interval), the interval in progress finishes, then nvidia-smi, the spool and NATS close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.http?.close();
      await this.loop.stop();
      this.collect.close();
      await this.delivery.close();
    })();
    return this.closing;
  }
}

export function createAgent(opts: CreateAgentOptions): Agent {
  const logger = opts.logger ?? createLogger('agent', opts.logLevel ?? 'info');
  return new Agent(opts.settings, logger, opts.clock ?? systemClock, opts.disableTimer === true);
}
