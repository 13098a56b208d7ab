import { fromWireValue, isStaleNaN } from '@arcwatch/contracts';
import { relabelConfigSchema, type ScrapeJob } from '../config/scrape-config.schema';
import { compileRules } from '../relabel/relabel';
import {
  buildEndOfTargetBatch,
  buildScrapeBatch,
  EMPTY_STATE,
  type ScrapeInput,
  type ScrapeOptions,
  type ScrapedSample,
} from './scrape-batch';
import { TargetBuilder, hostOf } from './target';

const job: ScrapeJob = {
  jobName: 'dcgm',
  intervalMs: 15_000,
  timeoutMs: 10_000,
  metricsPath: '/metrics',
  scheme: 'http',
  params: {},
  honorLabels: false,
  honorTimestamps: true,
  sampleLimit: 0,
  seriesLimit: 0,
  staticConfigs: [],
  fileSdConfigs: [],
  relabelConfigs: [],
  metricRelabelConfigs: [],
  labelLimit: 0,
  labelNameLengthLimit: 0,
  labelValueLengthLimit: 0,
  targetLimit: 0,
  bodySizeLimit: 0,
  http: {},
};
const [target] = new TargetBuilder(job).build([
  { targets: ['gpu-node-1:9400'], labels: { rack: 'r1' }, source: 'static' },
]).targets;
const options: ScrapeOptions = {
  honorLabels: false,
  honorTimestamps: true,
  sampleLimit: 0,
  seriesLimit: 0,
  metricRules: [],
};
const util = (gpu: string, value: number, extra: Record<string, string> = {}): ScrapedSample => ({
  name: 'DCGM_FI_DEV_GPU_UTIL',
  labels: { gpu, ...extra },
  value,
});

function scrape(over: Partial<ScrapeInput>) {
  return buildScrapeBatch({
    cluster: 'prod',
    target,
    options,
    startMs: 1_000_000,
    durationMs: 250,
    outcome: { ok: true, samples: [] },
    previous: EMPTY_STATE,
    ...over,
  });
}

const byName = (r: ReturnType<typeof scrape>, name: string) => r.batch.series.filter((s) => s.labels.__name__ === name);

describe('a scrape becomes one batch', () => {
  it('labels samples with job, instance and the target labels, stamped with the scrape time', () => {
    const r = scrape({ outcome: { ok: true, samples: [util('0', 87), util('1', 12)] } });
    expect(r.batch).toMatchObject({
      source: 'scrape',
      cluster: 'prod',
      node: 'gpu-node-1',
      target: { job: 'dcgm', instance: 'gpu-node-1:9400' },
      scrapedAtMs: 1_000_000,
    });
    expect(byName(r, 'DCGM_FI_DEV_GPU_UTIL')).toEqual([
      {
        labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: '0', job: 'dcgm', instance: 'gpu-node-1:9400', rack: 'r1' },
        samples: [[1_000_000, 87]],
      },
      {
        labels: { __name__: 'DCGM_FI_DEV_GPU_UTIL', gpu: '1', job: 'dcgm', instance: 'gpu-node-1:9400', rack: 'r1' },
        samples: [[1_000_000, 12]],
      },
    ]);
    expect(r.batch.batchId).toBe(scrape({}).batch.batchId);
    expect(r.batch.batchId).not.toBe(scrape({ startMs: 1_015_000 }).batch.batchId);
  });

  it('adds up, scrape_duration_seconds and sample counts', () => {
    const r = scrape({
      outcome: { ok: true, samples: [util('0', 87), util('1', 12), { name: 'other', labels: {}, value: 1 }] },
      options: {
        ...options,
        metricRules: compileRules([
          relabelConfigSchema.parse({ action: 'drop', source_labels: ['__name__'], regex: 'other' }),
        ]),
      },
    });
    const value = (name: string) => byName(r, name)[0].samples[0][1];
    expect([
      value('up'),
      value('scrape_duration_seconds'),
      value('scrape_samples_scraped'),
      value('scrape_samples_post_metric_relabeling'),
    ]).toEqual([1, 0.25, 3, 2]);
    expect(byName(r, 'up')[0].labels).toEqual({ __name__: 'up', job: 'dcgm', instance: 'gpu-node-1:9400', rack: 'r1' });
    expect(r.batch.series).toHaveLength(2 + 4);
  });

  it('renames clashing scraped labels to exported_*, unless honor_labels', () => {
    const s = util('0', 1, { job: 'from-exporter', exported_job: 'x' });
    expect(byName(scrape({ outcome: { ok: true, samples: [s] } }), 'DCGM_FI_DEV_GPU_UTIL')[0].labels).toMatchObject({
      job: 'dcgm',
      exported_job: 'x',
      exported_exported_job: 'from-exporter',
    });
    expect(
      byName(
        scrape({ outcome: { ok: true, samples: [s] }, options: { ...options, honorLabels: true } }),
        'DCGM_FI_DEV_GPU_UTIL',
      )[0].labels,
    ).toMatchObject({ job: 'from-exporter', instance: 'gpu-node-1:9400' });
  });

  it('keeps exposition timestamps when honor_timestamps, else uses the scrape time', () => {
    const s: ScrapedSample = { name: 'm', labels: {}, value: 2, timestampMs: 999_000 };
    expect(byName(scrape({ outcome: { ok: true, samples: [s] } }), 'm')[0].samples).toEqual([[999_000, 2]]);
    expect(
      byName(scrape({ outcome: { ok: true, samples: [s] }, options: { ...options, honorTimestamps: false } }), 'm')[0]
        .samples,
    ).toEqual([[1_000_000, 2]]);
  });

  it('fails the whole scrape above sample_limit, and the series it had go stale', () => {
    const first = scrape({ outcome: { ok: true, samples: [util('0', 1)] } });
    const r = scrape({
      startMs: 1_015_000,
      previous: first.state,
      options: { ...options, sampleLimit: 2 },
      outcome: { ok: true, samples: [util('0', 1), util('1', 1), util('2', 1)] },
    });
    expect(r.report).toMatchObject({ up: false, error: 'sample_limit exceeded: 3 samples > 2', staleMarkers: 1 });
    expect(byName(r, 'up')[0].samples).toEqual([[1_015_000, 0]]);
    const gpu = byName(r, 'DCGM_FI_DEV_GPU_UTIL');
    expect(gpu).toHaveLength(1);
    expect(isStaleNaN(fromWireValue(gpu[0].samples[0][1]))).toBe(true);
  });

  it('writes a stale marker for a series that vanished, and for all of them when the target fails', () => {
    const first = scrape({ outcome: { ok: true, samples: [util('0', 1), util('1', 2)] } });
    const second = scrape({
      startMs: 1_015_000,
      previous: first.state,
      outcome: { ok: true, samples: [util('0', 3)] },
    });
    expect(byName(second, 'DCGM_FI_DEV_GPU_UTIL').map((s) => [s.labels.gpu, s.samples])).toEqual([
      ['0', [[1_015_000, 3]]],
      ['1', [[1_015_000, 'stale']]],
    ]);
    const failed = scrape({
      startMs: 1_030_000,
      previous: second.state,
      outcome: { ok: false, error: 'connection refused' },
    });
    expect(failed.report).toMatchObject({ up: false, error: 'connection refused', samplesScraped: 0, staleMarkers: 1 });
    expect(byName(failed, 'DCGM_FI_DEV_GPU_UTIL')[0].samples).toEqual([[1_030_000, 'stale']]);
    expect(byName(failed, 'up')[0].samples).toEqual([[1_030_000, 0]]);
    // After the failure, nothing is left to go stale again.
    const third = scrape({
      startMs: 1_045_000,
      previous: failed.state,
      outcome: { ok: false, error: 'connection refused' },
    });
    expect(third.report.staleMarkers).toBe(0);
  });

  it('makes every series stale, synthetic ones too, when the target disappears', () => {
    const first = scrape({ outcome: { ok: true, samples: [util('0', 1)] } });
    const end = buildEndOfTargetBatch('prod', target, first.state, 1_020_000);
    expect(end?.series.map((s) => [s.labels.__name__, s.samples])).toEqual([
      ['DCGM_FI_DEV_GPU_UTIL', [[1_020_000, 'stale']]],
      ['up', [[1_020_000, 'stale']]],
      ['scrape_duration_seconds', [[1_020_000, 'stale']]],
      ['scrape_samples_scraped', [[1_020_000, 'stale']]],
      ['scrape_samples_post_metric_relabeling', [[1_020_000, 'stale']]],
    ]);
    expect(buildEndOfTargetBatch('prod', target, EMPTY_STATE, 1)).toBeUndefined();
  });

  it('guards cardinality: known series keep their place, new ones beyond the limit are dropped', () => {
    const limited = { ...options, seriesLimit: 2 };
    const first = scrape({ options: limited, outcome: { ok: true, samples: [util('5', 1), util('6', 1)] } });
    const r = scrape({
      startMs: 1_015_000,
      options: limited,
      previous: first.state,
      outcome: { ok: true, samples: [util('0', 1), util('1', 1), util('5', 1), util('6', 1)] },
    });
    expect(byName(r, 'DCGM_FI_DEV_GPU_UTIL').map((s) => s.labels.gpu)).toEqual(['5', '6']);
    expect(r.report.seriesDroppedByLimit).toBe(2);
    expect(byName(r, 'arcwatch_scrape_series_dropped_by_limit')[0].samples).toEqual([[1_015_000, 2]]);
    expect(r.report.up).toBe(true);
  });

  it('keeps the first of two samples for one series at one time', () => {
    const r = scrape({ outcome: { ok: true, samples: [util('0', 1), util('0', 2)] } });
    expect(byName(r, 'DCGM_FI_DEV_GPU_UTIL')).toEqual([expect.objectContaining({ samples: [[1_000_000, 1]] })]);
  });
});

describe('targets from target groups', () => {
  it('builds the URL from scheme, address, path and params, and instance from the address', () => {
    const b = new TargetBuilder({ ...job, params: { collect: ['a', 'b'] }, metricsPath: '/probe' });
    const { targets } = b.build([{ targets: ['[::1]:9100', 'h:1'], labels: {}, source: 's' }]);
    expect(targets.map((t) => [t.url, t.instance, t.node])).toEqual([
      ['http://[::1]:9100/probe?collect=a&collect=b', '[::1]:9100', '::1'],
      ['http://h:1/probe?collect=a&collect=b', 'h:1', 'h'],
    ]);
  });

  it('applies relabel_configs to targets: drop, rewrite address and instance', () => {
    const b = new TargetBuilder({
      ...job,
      relabelConfigs: [
        relabelConfigSchema.parse({ action: 'drop', source_labels: ['env'], regex: 'dev' }),
        relabelConfigSchema.parse({
          source_labels: ['__address__'],
          regex: '(.*):9400',
          target_label: 'instance',
          replacement: '$1',
        }),
        relabelConfigSchema.parse({
          source_labels: ['__address__'],
          regex: '(.*):9400',
          target_label: '__address__',
          replacement: '$1:9401',
        }),
      ],
    });
    const { targets, dropped } = b.build([
      { targets: ['a:9400'], labels: { env: 'prod' }, source: 's' },
      { targets: ['b:9400'], labels: { env: 'dev' }, source: 's' },
    ]);
    expect(dropped).toBe(1);
    expect(targets).toEqual([
      expect.objectContaining({
        url: 'http://a:9401/metrics',
        instance: 'a',
        labels: { job: 'dcgm', env: 'prod', instance: 'a' },
      }),
    ]);
  });

  it('finds the host of an address', () => {
    expect([hostOf('Node-1:9400'), hostOf('10.0.0.2'), hostOf('[fe80::1]:80')]).toEqual([
      'node-1',
      '10.0.0.2',
      'fe80::1',
    ]);
  });
});

describe('label limits fail the scrape as in Prometheus', () => {
  const limited = (o: Partial<ScrapeOptions>, samples: ScrapedSample[]) =>
    scrape({ options: { ...options, ...o }, outcome: { ok: true, samples } });

  it('label_limit counts every label of the series, __name__ and target labels included', () => {
    // __name__, gpu, job, instance, rack = 5 labels
    expect(limited({ labelLimit: 5 }, [util('0', 1)]).report.up).toBe(true);
    const r = limited({ labelLimit: 4 }, [util('0', 1)]);
    expect(r.report).toMatchObject({
      up: false,
      error: 'label_limit exceeded (metric: DCGM_FI_DEV_GPU_UTIL, number of labels: 5, limit: 4)',
    });
    expect(byName(r, 'DCGM_FI_DEV_GPU_UTIL')).toEqual([]);
    expect(fromWireValue(byName(r, 'up')[0]!.samples[0]![1])).toBe(0);
  });

  it('label_name_length_limit and label_value_length_limit measure bytes', () => {
    expect(limited({ labelNameLengthLimit: 8 }, [util('0', 1)]).report.up).toBe(true); // "instance" is 8
    expect(limited({ labelNameLengthLimit: 7 }, [util('0', 1)]).report.error).toBe(
      'label_name_length_limit exceeded (metric: DCGM_FI_DEV_GPU_UTIL, label name: instance, length: 8, limit: 7)',
    );
    const long = util('0', 1, { model: 'é'.repeat(10) }); // 20 bytes, 10 characters
    expect(limited({ labelValueLengthLimit: 20 }, [long]).report.up).toBe(true);
    expect(limited({ labelValueLengthLimit: 19 }, [long]).report.error).toBe(
      `label_value_length_limit exceeded (metric: DCGM_FI_DEV_GPU_UTIL, label name: model, value: "${'é'.repeat(10)}", length: 20, limit: 19)`,
    );
  });

  it('the series of the previous scrape go stale when a limit fails the scrape', () => {
    const first = limited({}, [util('0', 1)]);
    const second = scrape({
      options: { ...options, labelLimit: 2 },
      outcome: { ok: true, samples: [util('0', 2)] },
      previous: first.state,
    });
    expect(byName(second, 'DCGM_FI_DEV_GPU_UTIL').map((s) => isStaleNaN(fromWireValue(s.samples[0]![1])))).toEqual([
      true,
    ]);
  });
});

describe('exemplars and metadata of a scrape', () => {
  it('carries each exemplar with the index of its series (the sample time when it has none) and the declared families', () => {
    const bucket = (le: string, value: number, exemplar?: ScrapedSample['exemplar']): ScrapedSample => ({
      name: 'lat_seconds_bucket',
      labels: { le },
      value,
      ...(exemplar ? { exemplar } : {}),
    });
    const metadata = [{ metric: 'lat_seconds', type: 'histogram' as const, help: 'Request latency.', unit: 'seconds' }];
    const r = scrape({
      outcome: {
        ok: true,
        metadata,
        samples: [
          bucket('0.5', 3),
          bucket('1', 5, { labels: { trace_id: 'abc' }, value: 0.7, timestampMs: 999_000 }),
          bucket('+Inf', 6, { labels: { request_id: 'r-1' }, value: 4 }),
        ],
      },
    });
    expect(r.batch.exemplars).toEqual([
      { series: 1, labels: { trace_id: 'abc' }, value: 0.7, timestampMs: 999_000 },
      { series: 2, labels: { request_id: 'r-1' }, value: 4, timestampMs: 1_000_000 },
    ]);
    expect(r.batch.series[1]!.labels.le).toBe('1');
    expect(r.batch.series[2]!.labels.le).toBe('+Inf');
    expect(r.batch.metadata).toEqual(metadata);
    // a failed scrape describes nothing
    expect(scrape({ outcome: { ok: false, error: 'down' } }).batch.metadata).toBeUndefined();
  });
});
