import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromWireValue, isStaleNaN, type MetricsBatchV1 } from '@arcwatch/contracts';
import { MetricsRegistry, systemClock } from '@arcwatch/runtime';
import pino from 'pino';
import type { BatchPublisher } from '../ingest/batch.publisher';
import { CollectorMetrics } from '../metrics';
import { ScrapeLoop } from './scrape-loop';
import type { ScrapeOptions } from './scrape-batch';

const OPTIONS: ScrapeOptions = {
  honorLabels: false,
  honorTimestamps: true,
  sampleLimit: 0,
  seriesLimit: 0,
  metricRules: [],
};

/** A target answering `body()` each time, and a loop scraping it whose batches are kept. */
async function loopOver(
  body: () => string,
): Promise<{ loop: ScrapeLoop; published: MetricsBatchV1[]; close: () => Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(body());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const published: MetricsBatchV1[] = [];
  const publisher = {
    publish: async (b: MetricsBatchV1) => (published.push(b), { duplicate: false }),
  } as unknown as BatchPublisher;
  const instance = `127.0.0.1:${port}`;
  const loop = new ScrapeLoop(
    {
      key: instance,
      jobName: 'j',
      url: `http://${instance}/metrics`,
      instance,
      labels: { job: 'j', instance },
      node: '127.0.0.1',
    },
    60_000,
    5_000,
    OPTIONS,
    {
      cluster: 'c',
      publisher,
      metrics: new CollectorMetrics(new MetricsRegistry('test')),
      clock: systemClock,
      logger: pino({ level: 'silent' }),
    },
  );
  return {
    loop,
    published,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the scrape client's kept-alive connection too
      }),
  };
}

const valuesOf = (b: MetricsBatchV1) =>
  b.series.filter((s) => s.labels.__name__ === 'gpu_util').map((s) => [s.labels.gpu, fromWireValue(s.samples[0]![1])]);

describe('a scrape loop keeps its target label objects across scrapes', () => {
  it('parses a label text seen before once, and stores the same samples', async () => {
    let n = 0;
    const t = await loopOver(() => {
      n++;
      return `# TYPE gpu_util gauge\ngpu_util{gpu="0",uuid="GPU-a"} ${n}\ngpu_util{gpu="1",uuid="GPU-b"} ${n * 2}\n`;
    });
    try {
      for (let k = 0; k < 3; k++) await t.loop.scrapeOnce(1_800_000_000_000 + k * 60_000);
      expect(t.loop.labelCacheSize()).toBe(2);
      expect(t.published.map(valuesOf)).toEqual([
        [
          ['0', 1],
          ['1', 2],
        ],
        [
          ['0', 2],
          ['1', 4],
        ],
        [
          ['0', 3],
          ['1', 6],
        ],
      ]);
    } finally {
      await t.close();
    }
  });

  it('starts its label caches again when a target churns label texts', async () => {
    let scrape = 0;
    const series = 600;
    const t = await loopOver(() => {
      scrape++;
      const lines = ['# TYPE gpu_util gauge'];
      for (let i = 0; i < series; i++) lines.push(`gpu_util{gpu="${i}",request="${scrape}-${i}"} 1`);
      return lines.join('\n') + '\n';
    });
    try {
      const sizes: number[] = [];
      for (let k = 0; k < 10; k++) {
        await t.loop.scrapeOnce(1_800_000_000_000 + k * 60_000);
        sizes.push(t.loop.labelCacheSize());
      }
      // never past twice a scrape's samples and the slack; without the bound it would end at 6,000
      expect(Math.max(...sizes)).toBeLessThanOrEqual(2 * series + 1_000);
      expect(sizes.slice(0, 4)).toEqual([600, 1_200, 1_800, 0]);
      expect(t.published).toHaveLength(10);
      // every scrape's series stored (the previous scrape's ones marked stale beside them)
      const live = (b: MetricsBatchV1) =>
        b.series.filter((x) => x.labels.__name__ === 'gpu_util' && !isStaleNaN(fromWireValue(x.samples[0]![1]))).length;
      expect(t.published.map(live)).toEqual(Array(10).fill(series));
    } finally {
      await t.close();
    }
  });
});
