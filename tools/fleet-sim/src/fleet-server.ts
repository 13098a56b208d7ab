/**
 * The thin shell around `FleetModel`: one loopback HTTP listener per node and exporter, a timer
 * that moves the model to the wall clock and hands its request events to the sinks. A node that is
 * down has its listeners closed (connection refused, as a dead host's exporter), and they reopen
 * when the model boots it again.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { EventSink } from './event-sinks';
import type { FleetModel } from './fleet-model';
import type { Clock } from './random';

const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Exporter = 'dcgm' | 'vllm';

interface Endpoint {
  node: number;
  exporter: Exporter;
  port: number;
  server: Server | null;
  /** A listen or close in progress; reconcile waits for it rather than racing it. */
  busy: boolean;
}

export interface FleetServerOptions {
  model: FleetModel;
  clock: Clock;
  bindHost: string;
  /** How often the model advances and events flush. */
  intervalMs: number;
  sinks: readonly EventSink[];
  log: (line: string) => void;
}

export class FleetServer {
  private readonly endpoints: Endpoint[];
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(private readonly opts: FleetServerOptions) {
    this.endpoints = opts.model.nodes.flatMap((n) => [
      { node: n.index, exporter: 'dcgm' as const, port: n.dcgmPort, server: null, busy: false },
      { node: n.index, exporter: 'vllm' as const, port: n.vllmPort, server: null, busy: false },
    ]);
  }

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.endpoints.map((e) => this.close(e)));
    for (const s of this.opts.sinks) await s.close();
  }

  /** Which endpoints answer right now (for logs and tests). */
  listening(): Array<{ node: number; exporter: Exporter; port: number }> {
    return this.endpoints
      .filter((e) => e.server !== null)
      .map(({ node, exporter, port }) => ({ node, exporter, port }));
  }

  /** Advances the model to now, delivers its events and opens or closes listeners to match it. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const { model } = this.opts;
      model.advanceTo(this.opts.clock.nowMs());
      const events = model.drainEvents();
      for (const s of this.opts.sinks) {
        s.push(events);
        void s.flush();
      }
      await Promise.all(this.endpoints.map((e) => this.reconcile(e)));
    } finally {
      this.ticking = false;
    }
  }

  private answers(e: Endpoint): boolean {
    return e.exporter === 'dcgm' ? this.opts.model.isNodeUp(e.node) : this.opts.model.isVllmReady(e.node);
  }

  private async reconcile(e: Endpoint): Promise<void> {
    if (e.busy) return;
    const want = this.answers(e);
    if (want && !e.server) await this.open(e);
    else if (!want && e.server) {
      this.opts.log(`${this.opts.model.nodes[e.node].hostname} ${e.exporter} :${e.port} stops answering`);
      await this.close(e);
    }
  }

  private open(e: Endpoint): Promise<void> {
    e.busy = true;
    const server = createServer((req, res) => this.handle(e, req, res));
    return new Promise<void>((resolve, reject) => {
      server.once('error', (err) => {
        e.busy = false;
        reject(
          new Error(
            `cannot listen on ${this.opts.bindHost}:${e.port} (${e.exporter} of node ${e.node}): ${err.message}`,
          ),
        );
      });
      server.listen(e.port, this.opts.bindHost, () => {
        e.server = server;
        e.busy = false;
        resolve();
      });
    });
  }

  private close(e: Endpoint): Promise<void> {
    const server = e.server;
    if (!server) return Promise.resolve();
    e.busy = true;
    e.server = null;
    return new Promise<void>((resolve) => {
      server.close(() => {
        e.busy = false;
        resolve();
      });
      // Keep-alive connections of a scraper would otherwise keep a dead node answering.
      server.closeAllConnections();
    });
  }

  private handle(e: Endpoint, req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const { model } = this.opts;
    if (path === '/health' && e.exporter === 'vllm') {
      res.writeHead(200).end();
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    model.advanceTo(this.opts.clock.nowMs());
    const body = e.exporter === 'dcgm' ? model.dcgmExposition(e.node) : model.vllmExposition(e.node);
    if (body === null) {
      // The node died between two ticks: behave like it, not like a server with an error page.
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
