/**
 * fleet-sim: serves a simulated GPU fleet (dcgm-exporter and vLLM /metrics per node) and sends
 * its request traffic to the tracing service or a JSONL file.
 *   node tools/register.js tools/fleet-sim/src/main.ts --nodes 4 --base-port 19400 --write-sd sd.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type FleetSimOptions, parseCliOptions } from './cli-options';
import { type EventSink, HttpEventSink, JsonlEventSink } from './event-sinks';
import { FleetModel } from './fleet-model';
import { FleetServer } from './fleet-server';
import { type Clock, systemClock } from './random';
import { fileSdGroups, scrapeConfigYaml } from './scrape-targets';

const log = (line: string) => process.stderr.write(`[fleet-sim] ${line}\n`);

function writeFileEnsuringDir(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

function buildModel(o: FleetSimOptions, startMs: number): FleetModel {
  return new FleetModel({
    nodes: o.nodes,
    gpusPerNode: o.gpus,
    seed: o.seed,
    startMs,
    basePort: o.basePort,
    advertiseHost: o.advertiseHost,
    tickMs: o.tickMs,
    outage: o.outage,
    hotGpu: o.hotGpu,
    loadScale: o.loadScale,
    ambientC: o.ambientC,
    warmupMs: o.vllmWarmupMs,
  });
}

/** Offline: run the model as fast as it goes and keep only the events. */
async function simulate(o: FleetSimOptions, seconds: number): Promise<number> {
  if (!o.eventsOut) {
    log('--simulate needs --events-out FILE');
    return 2;
  }
  const start = o.startMs ?? systemClock.nowMs();
  const model = buildModel(o, start);
  const sink = new JsonlEventSink(o.eventsOut);
  for (let t = start; t < start + seconds * 1000; t += 1000) {
    model.advanceTo(t + 1000);
    sink.push(model.drainEvents());
  }
  await sink.close();
  log(`wrote ${sink.written} events (${seconds} s of ${o.nodes} nodes) to ${o.eventsOut}`);
  return 0;
}

async function serve(o: FleetSimOptions, clock: Clock): Promise<number> {
  const model = buildModel(o, clock.nowMs());
  if (o.writeSd) writeFileEnsuringDir(o.writeSd, JSON.stringify(fileSdGroups(model.nodes, o.cluster), null, 2) + '\n');
  if (o.writeScrapeConfig) {
    const sdFile = o.writeSd ? path.resolve(o.writeSd) : undefined;
    writeFileEnsuringDir(
      o.writeScrapeConfig,
      scrapeConfigYaml(model.nodes, { cluster: o.cluster, sdFile, scrapeInterval: o.scrapeInterval }),
    );
  }
  const sinks: EventSink[] = [];
  // The token stays out of argv (visible to every user of the machine): ARCWATCH_INGEST_TOKEN.
  const token = process.env.ARCWATCH_INGEST_TOKEN || undefined;
  const http = o.tracingUrl ? new HttpEventSink(o.tracingUrl, undefined, undefined, token) : null;
  if (http) sinks.push(http);
  if (o.eventsOut) sinks.push(new JsonlEventSink(o.eventsOut));
  const server = new FleetServer({ model, clock, bindHost: o.host, intervalMs: 1000, sinks, log });
  await server.start();
  const first = model.nodes[0];
  log(
    `${o.nodes} nodes × ${o.gpus} GPUs: dcgm-exporter on ports ${first.dcgmPort}+2i, vLLM on ${first.vllmPort}+2i (${o.host})`,
  );
  log(
    `e.g. curl http://${o.advertiseHost}:${first.dcgmPort}/metrics  |  curl http://${o.advertiseHost}:${first.vllmPort}/metrics`,
  );
  if (o.outage.node >= 0) {
    log(
      `${model.nodes[o.outage.node].hostname} dies ${o.outage.firstAtMs / 1000} s after start for ${o.outage.durationMs / 1000} s` +
        (o.outage.everyMs > 0 ? `, every ${o.outage.everyMs / 1000} s` : ''),
    );
  }
  const reportSink = () => {
    if (!http) return;
    const s = http.stats;
    log(
      `request events sent ${s.sent}, dropped ${s.dropped}, failed posts ${s.failures}${s.lastError ? ` (last: ${s.lastError})` : ''}`,
    );
  };
  const report = setInterval(reportSink, 15_000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(report);
  log('stopping');
  await server.stop();
  reportSink();
  return 0;
}

export async function main(argv: readonly string[], clock: Clock = systemClock): Promise<number> {
  const parsed = parseCliOptions(argv);
  if (!parsed.ok) {
    process.stderr.write(parsed.message + '\n');
    return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  }
  const o = parsed.options;
  return o.simulateSeconds !== undefined ? simulate(o, o.simulateSeconds) : serve(o, clock);
}

// tools/register.js puts the entry file in argv[1]; require.main is the register script there.
if (process.argv[1] === __filename) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      log(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
