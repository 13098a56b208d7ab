import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseAlertmanagerConfig, parseMatchers } from '@arcwatch/alertmanager';
import { parseCloudEvent, metricsBatchV2Schema, parseSeriesText } from '@arcwatch/contracts';
import { parsePriceCatalog } from '@arcwatch/cost';
import { parseDetectorFile } from '@arcwatch/detectors';
import { parseExposition } from '@arcwatch/exposition';
import { parsePromql } from '@arcwatch/promql';
import { parseApiKeysYaml } from '@arcwatch/request-assembly';
import { parseRuleFile } from '@arcwatch/rules';
import { FIXTURES_DIR, REPO_ROOT } from '@arcwatch/testing';

/**
 * Every parser of outside input, fed generated text: random strings and mutations (cut, flip,
 * duplicate, splice) of real inputs. A parser may accept or refuse; it may not crash — a native
 * TypeError / RangeError / ReferenceError / SyntaxError, or a thrown non-Error, is a bug — nor
 * take more than a second. `npm run fuzz` runs 100,000 inputs per parser; the suite runs fewer.
 */
const RUNS = Number(process.env.ARCWATCH_FUZZ_RUNS ?? 300);
const CRASHES = [TypeError, RangeError, ReferenceError, SyntaxError];

function crashOf(parse: (input: string) => unknown, input: string): string | undefined {
  const started = performance.now();
  try {
    parse(input);
  } catch (err) {
    if (!(err instanceof Error)) return `threw a non-error: ${String(err)}`;
    if (CRASHES.some((c) => err.constructor === c)) return `${err.constructor.name}: ${err.message}\n${err.stack}`;
  }
  const ms = performance.now() - started;
  return ms > 1_000 ? `took ${Math.round(ms)} ms` : undefined;
}

const read = (p: string) => readFileSync(p, 'utf8');

/** Text that looks like the seed: pieces cut out, bytes changed, lines repeated, random text spliced in. */
function mutated(seed: string): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.nat({ max: Math.max(0, seed.length - 1) }),
      fc.nat({ max: 200 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('cut', 'insert', 'replace', 'repeat', 'truncate'),
    )
    .map(([at, len, noise, how]) => {
      switch (how) {
        case 'cut':
          return seed.slice(0, at) + seed.slice(at + len);
        case 'insert':
          return seed.slice(0, at) + noise + seed.slice(at);
        case 'replace':
          return seed.slice(0, at) + noise + seed.slice(at + noise.length);
        case 'repeat':
          return seed.slice(0, at) + seed.slice(at, at + len).repeat(3) + seed.slice(at + len);
        default:
          return seed.slice(0, at);
      }
    });
}

function inputs(seeds: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
    ...seeds.map(mutated),
  );
}

const PARSERS: Array<[string, (s: string) => unknown, string[]]> = [
  [
    'Prometheus text exposition',
    (s) => parseExposition(s),
    [read(path.join(FIXTURES_DIR, 'node-exporter/node-exporter-1.5.0-debian12.metrics.txt')).slice(0, 4000)],
  ],
  [
    'OpenMetrics exposition',
    (s) => parseExposition(s, { format: 'openmetrics' }),
    [read(path.join(FIXTURES_DIR, 'prometheus-exposition/prometheus-1histogram.om.txt'))],
  ],
  [
    'PromQL',
    (s) => parsePromql(s),
    [
      'sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / on(job) group_left sum(rate(x[1m]))',
      'histogram_quantile(0.99, sum(rate(vllm:time_to_first_token_seconds_bucket[5m])) by (le)) > 5',
    ],
  ],
  [
    'rule file',
    (s) => parseRuleFile(s, 'fuzz.yml'),
    [read(path.join(FIXTURES_DIR, 'alert-rules/prometheus-rulefmt/test.yaml'))],
  ],
  [
    'Alertmanager config',
    (s) => parseAlertmanagerConfig(s, 'fuzz.yml'),
    [read(path.join(FIXTURES_DIR, 'alertmanager/upstream-configs', 'conf.good.yml'))],
  ],
  [
    'Alertmanager matchers',
    (s) => parseMatchers(s),
    ['{alertname="Down",severity=~"P0|P1",team!="x"}', 'foo=bar, baz!~"q.*"'],
  ],
  [
    'price catalog',
    (s) => parsePriceCatalog(s, 'prices.yaml'),
    [read(path.join(REPO_ROOT, 'infra/billing/prices.yaml')).slice(0, 3000)],
  ],
  [
    'detector file',
    (s) => parseDetectorFile(s, 'detectors.yaml'),
    [read(path.join(REPO_ROOT, 'infra/detectors/llm-fleet.yaml'))],
  ],
  [
    'API-key mapping',
    (s) => parseApiKeysYaml(s, 'keys.yaml'),
    [`apiKeys:\n  - keyHash: ${'a'.repeat(64)}\n    tenant: acme\n`],
  ],
  [
    'series text',
    (s) => parseSeriesText(s),
    ['up{job="node",instance="h:9100"}', 'vllm:num_requests_running{model_name="m"}'],
  ],
  [
    'metrics batch message',
    (s) => parseCloudEvent(s, 'io.arcwatch.metrics.batch.v2', metricsBatchV2Schema),
    [
      '{"specversion":"1.0","id":"x","source":"s","type":"io.arcwatch.metrics.batch.v2","time":"2026-01-01T00:00:00Z","datacontenttype":"application/json","data":{}}',
    ],
  ],
];

describe(`parsers under generated input (${RUNS} each)`, () => {
  it.each(PARSERS)('%s never crashes or hangs', (_name, parse, seeds) => {
    fc.assert(
      fc.property(inputs(seeds), (input) => {
        const crash = crashOf(parse, input);
        if (crash) throw new Error(`${crash}\ninput: ${JSON.stringify(input)}`);
      }),
      { numRuns: RUNS },
    );
  });
});
