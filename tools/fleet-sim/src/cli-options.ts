/**
 * Command-line options of fleet-sim, validated with zod so a typo is an error that names the
 * flag rather than a silently ignored setting.
 */
import { z } from 'zod';
import { type OutagePlan, defaultOutagePlan } from './load-plan';

const HELP = `usage: fleet-sim [options]
  --nodes N               GPU nodes (8 GPUs each)                       [4]
  --gpus N                GPUs per node                                 [8]
  --seed N                PRNG seed                                     [1]
  --base-port P           node i: dcgm-exporter on P+2i, vLLM on P+2i+1 [19400]
  --host H                address to listen on                          [127.0.0.1]
  --advertise-host H      host written into targets and events          [--host]
  --tick-ms MS            simulation resolution                         [250]
  --load-scale X          demand multiplier                             [1]
  --ambient C             inlet air temperature in °C (a cooling failure: higher) [27]
  --vllm-warmup SECONDS   from a node's boot until its vLLM answers (loading weights) [40]
  --outage NODE:AT:FOR[:EVERY]  seconds; node NODE dies AT s after start for FOR s, every EVERY s
                          [last node:120:90:900]; --outage none for no outage
  --hot-gpu NODE:GPU|none the board that runs hot                       [0:5]
  --cluster NAME          cluster label of the targets                  [sim]
  --tracing-url URL       POST request events to URL/api/v1/requests/events
                          (with the Bearer token in ARCWATCH_INGEST_TOKEN, if set)
  --events-out FILE       append request events as JSON lines
  --write-sd FILE         write a Prometheus file_sd JSON of the targets
  --write-scrape-config FILE  write a collector scrape config for the fleet (uses --write-sd if given)
  --scrape-interval DUR   interval written into the scrape config       [5s]
  --simulate SECONDS      no servers: simulate SECONDS from --start, write events, exit
  --start ISO             simulation start for --simulate               [now]
`;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const rawSchema = z
  .object({
    nodes: int(1, 1000).default(4),
    gpus: int(1, 16).default(8),
    seed: int(0, 2 ** 31).default(1),
    'base-port': int(1, 65000).default(19400),
    host: z.string().min(1).default('127.0.0.1'),
    'advertise-host': z.string().min(1).optional(),
    'tick-ms': int(10, 10_000).default(250),
    'load-scale': z.coerce.number().positive().max(100).default(1),
    ambient: z.coerce.number().min(-10).max(60).default(27),
    'vllm-warmup': z.coerce.number().min(0).max(3600).default(40),
    outage: z
      .string()
      .regex(/^(none|\d+:\d+:\d+(:\d+)?)$/, 'expected NODE:AT:FOR[:EVERY] or none')
      .optional(),
    'hot-gpu': z
      .string()
      .regex(/^(none|\d+:\d+)$/, 'expected NODE:GPU or none')
      .default('0:5'),
    cluster: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('sim'),
    'tracing-url': z.url().optional(),
    'events-out': z.string().min(1).optional(),
    'write-sd': z.string().min(1).optional(),
    'write-scrape-config': z.string().min(1).optional(),
    'scrape-interval': z
      .string()
      .regex(/^\d+(ms|s|m)$/)
      .default('5s'),
    simulate: z.coerce.number().positive().optional(),
    start: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

export interface FleetSimOptions {
  nodes: number;
  gpus: number;
  seed: number;
  basePort: number;
  host: string;
  advertiseHost: string;
  tickMs: number;
  loadScale: number;
  ambientC: number;
  vllmWarmupMs: number;
  outage: OutagePlan;
  hotGpu: { node: number; gpu: number } | null;
  cluster: string;
  tracingUrl?: string;
  eventsOut?: string;
  writeSd?: string;
  writeScrapeConfig?: string;
  scrapeInterval: string;
  simulateSeconds?: number;
  startMs?: number;
}

export type ParseResult = { ok: true; options: FleetSimOptions } | { ok: false; message: string };

export function parseCliOptions(argv: readonly string[]): ParseResult {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return { ok: false, message: HELP };
    if (!a.startsWith('--')) return { ok: false, message: `unexpected argument "${a}"\n\n${HELP}` };
    const eq = a.indexOf('=');
    if (eq > 0) raw[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) return { ok: false, message: `${a} needs a value` };
      raw[a.slice(2)] = v;
      i++;
    }
  }
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) {
    const msg = parsed.error.issues
      .map((i) => (i.path.length ? `--${i.path.join('.')}: ${i.message}` : i.message))
      .join('\n');
    return { ok: false, message: `${msg}\n\n${HELP}` };
  }
  const o = parsed.data;
  const [hotNode, hotGpu] = o['hot-gpu'] === 'none' ? [] : o['hot-gpu'].split(':').map(Number);
  return {
    ok: true,
    options: {
      nodes: o.nodes,
      gpus: o.gpus,
      seed: o.seed,
      basePort: o['base-port'],
      host: o.host,
      advertiseHost: o['advertise-host'] ?? o.host,
      tickMs: o['tick-ms'],
      loadScale: o['load-scale'],
      ambientC: o.ambient,
      vllmWarmupMs: o['vllm-warmup'] * 1000,
      outage: parseOutage(o.outage, o.nodes),
      hotGpu: hotNode === undefined ? null : { node: hotNode, gpu: hotGpu },
      cluster: o.cluster,
      tracingUrl: o['tracing-url'],
      eventsOut: o['events-out'],
      writeSd: o['write-sd'],
      writeScrapeConfig: o['write-scrape-config'],
      scrapeInterval: o['scrape-interval'],
      simulateSeconds: o.simulate,
      startMs: o.start ? Date.parse(o.start) : undefined,
    },
  };
}

function parseOutage(spec: string | undefined, nodes: number): OutagePlan {
  if (spec === undefined) return defaultOutagePlan(nodes);
  if (spec === 'none') return { node: -1, firstAtMs: 0, durationMs: 0, everyMs: 0 };
  const [node, at, dur, every] = spec.split(':').map(Number);
  return { node, firstAtMs: at * 1000, durationMs: dur * 1000, everyMs: (every ?? 0) * 1000 };
}
