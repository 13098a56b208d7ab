import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseExposition } from '@arcwatch/exposition';
import { freePortRange } from '@arcwatch/testing';
import { HttpEventSink } from './event-sinks';
import { FleetModel } from './fleet-model';
import { FleetServer } from './fleet-server';
import type { SimRequestEvent } from './request-events';

const START = Date.parse('2026-11-23T10:00:00.000Z');
// Two nodes, two exporters each: four consecutive ports, handed out as every test's are.
let BASE_PORT = 0;

async function scrape(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

describe('fleet-sim HTTP shell on loopback', () => {
  let now = START;
  const received: SimRequestEvent[][] = [];
  let tracing: Server;
  let server: FleetServer;
  let sink: HttpEventSink;
  let model: FleetModel;

  beforeAll(async () => {
    BASE_PORT = await freePortRange(4);
    model = new FleetModel({
      nodes: 2,
      seed: 5,
      startMs: START,
      basePort: BASE_PORT,
      outage: { node: 1, firstAtMs: 20_000, durationMs: 15_000, everyMs: 0 },
      warmupMs: 5_000,
    });
    tracing = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        expect(req.url).toBe('/api/v1/requests/events');
        received.push((JSON.parse(body) as { events: SimRequestEvent[] }).events);
        res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => tracing.listen(0, '127.0.0.1', resolve));
    sink = new HttpEventSink(`http://127.0.0.1:${(tracing.address() as AddressInfo).port}`);
    // The timer interval is long: the test moves the clock and ticks by hand.
    server = new FleetServer({
      model,
      clock: { nowMs: () => now },
      bindHost: '127.0.0.1',
      intervalMs: 3_600_000,
      sinks: [sink],
      log: () => undefined,
    });
    await server.start();
  });

  afterAll(async () => {
    await server.stop();
    await new Promise<void>((resolve) => tracing.close(() => resolve()));
  });

  it('serves parseable dcgm-exporter and vLLM pages on each node port', async () => {
    now = START + 10_000;
    await server.tick();
    const dcgm = await scrape(BASE_PORT);
    expect(dcgm.status).toBe(200);
    const d = parseExposition(dcgm.body);
    expect(d.errors).toEqual([]);
    expect(d.samples.filter((s) => s.name === 'DCGM_FI_DEV_GPU_TEMP')).toHaveLength(8);
    const vllm = await scrape(BASE_PORT + 3);
    const v = parseExposition(vllm.body);
    expect(v.errors).toEqual([]);
    expect(v.samples.find((s) => s.name === 'vllm:num_requests_running')?.labels.model_name).toBe(
      'meta-llama/Llama-3.1-70B-Instruct',
    );
    expect(server.listening()).toHaveLength(4);
  });

  it('stops answering while the node is dead and answers again after it reboots', async () => {
    now = START + 21_000;
    await server.tick();
    await expect(scrape(BASE_PORT + 2)).rejects.toThrow();
    await expect(scrape(BASE_PORT + 3)).rejects.toThrow();
    expect((await scrape(BASE_PORT)).status).toBe(200);

    now = START + 36_000;
    await server.tick();
    expect((await scrape(BASE_PORT + 2)).status).toBe(200);
    await expect(scrape(BASE_PORT + 3)).rejects.toThrow(); // vLLM still loading weights

    now = START + 42_000;
    await server.tick();
    const v = parseExposition((await scrape(BASE_PORT + 3)).body);
    expect(v.samples.find((s) => s.name === 'vllm:prompt_tokens_created')?.value).toBeGreaterThan(START / 1000);
  });

  it('posts the request events to the tracing endpoint in batches', async () => {
    await sink.flush();
    const all = received.flat();
    expect(received.every((b) => b.length <= 10_000)).toBe(true);
    expect(all.length).toBeGreaterThan(500);
    expect(new Set(all.map((e) => e.kind))).toEqual(
      new Set(['received', 'queued', 'scheduled', 'first_token', 'completed', 'failed', 'cancelled']),
    );
    expect(sink.stats.sent).toBe(all.length);
  });
});
