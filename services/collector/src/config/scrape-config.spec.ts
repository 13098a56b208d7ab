import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { parseDuration } from '@arcwatch/config-files';
import { ConfigFileError, parseScrapeConfig } from './scrape-config.loader';

function issuesOf(text: string) {
  try {
    parseScrapeConfig(text, 'collector.yml');
  } catch (err) {
    if (err instanceof ConfigFileError) return err.issues;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('scrape configuration file', () => {
  it("reads Prometheus's own example config, resolving defaults and warning about what it ignores", () => {
    const file = path.join(FIXTURES_DIR, 'alert-rules', 'prometheus-example-config.yml');
    const settings = parseScrapeConfig(readFileSync(file, 'utf8'), file);
    expect(settings.cluster).toBe('default');
    expect(settings.jobs).toHaveLength(1);
    expect(settings.jobs[0]).toMatchObject({
      jobName: 'prometheus',
      intervalMs: 15_000,
      timeoutMs: 10_000,
      metricsPath: '/metrics',
      scheme: 'http',
      staticConfigs: [{ targets: ['localhost:9090'], labels: { app: 'prometheus' } }],
    });
    expect(settings.warnings).toEqual(
      expect.arrayContaining([
        'alerting: not used by the collector, ignored',
        'scrape_configs[0].scrape_native_histograms: not implemented by the collector, ignored',
      ]),
    );
  });

  it('applies the arcwatch block: cluster and per-job series limits', () => {
    const settings = parseScrapeConfig(
      [
        'arcwatch:',
        '  cluster: eu-gpu',
        '  series_limit: 5000',
        '  jobs:',
        '    dcgm: { series_limit: 200 }',
        'scrape_configs:',
        '  - job_name: dcgm',
        '    scrape_interval: 5s',
        '    sample_limit: 1000',
        '    file_sd_configs: [{ files: [targets/*.json], refresh_interval: 30s }]',
        '  - job_name: vllm',
        '    honor_labels: true',
        '    params: { format: [prometheus] }',
      ].join('\n'),
      'c.yml',
    );
    expect(settings.cluster).toBe('eu-gpu');
    expect(settings.jobs.map((j) => [j.jobName, j.seriesLimit, j.intervalMs, j.timeoutMs])).toEqual([
      ['dcgm', 200, 5000, 5000],
      ['vllm', 5000, 60_000, 10_000],
    ]);
    expect(settings.jobs[0].fileSdConfigs).toEqual([{ files: ['targets/*.json'], refreshIntervalMs: 30_000 }]);
    expect(settings.jobs[1]).toMatchObject({ honorLabels: true, params: { format: ['prometheus'] }, sampleLimit: 0 });
  });

  it('names file, line and field of a wrong value', () => {
    const issues = issuesOf(
      ['global:', '  scrape_interval: 15s', 'scrape_configs:', '  - job_name: a', '    scrape_interval: soon'].join(
        '\n',
      ),
    );
    expect(issues).toEqual([
      {
        file: 'collector.yml',
        line: 5,
        column: 22,
        field: 'scrape_configs[0].scrape_interval',
        message: expect.stringContaining('not a duration: "soon"'),
      },
    ]);
  });

  it('names an unknown field at the line of its key', () => {
    const issues = issuesOf(
      [
        'scrape_configs:',
        '  - job_name: a',
        '    metric_relabel_configs:',
        '      - action: drop',
        '        sourc_labels: [x]',
      ].join('\n'),
    );
    expect(issues).toEqual([
      {
        file: 'collector.yml',
        line: 5,
        column: 9,
        field: 'scrape_configs[0].metric_relabel_configs[0].sourc_labels',
        message: 'unknown field',
      },
    ]);
  });

  it('reports every problem at once: bad regex, missing target_label, duplicate job, timeout above interval', () => {
    const issues = issuesOf(
      [
        'scrape_configs:',
        '  - job_name: a',
        '    scrape_interval: 5s',
        '    scrape_timeout: 10s',
        '    metric_relabel_configs:',
        '      - { action: replace, source_labels: [x], regex: "(" }',
        '  - job_name: a',
      ].join('\n'),
    );
    expect(issues.map((i) => [i.line, i.field])).toEqual(
      expect.arrayContaining([
        [6, 'scrape_configs[0].metric_relabel_configs[0].regex'],
        [6, 'scrape_configs[0].metric_relabel_configs[0].target_label'],
      ]),
    );
    // Refinements on the whole file run once the fields themselves are valid.
    const second = issuesOf(
      [
        'scrape_configs:',
        '  - job_name: a',
        '    scrape_interval: 5s',
        '    scrape_timeout: 10s',
        '  - job_name: a',
      ].join('\n'),
    );
    expect(second.map((i) => [i.line, i.field])).toEqual([
      [4, 'scrape_configs[0].scrape_timeout'],
      [5, 'scrape_configs[1].job_name'],
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const issues = issuesOf('scrape_configs:\n  - job_name: "a\n');
    expect(issues[0]).toMatchObject({ file: 'collector.yml', field: '(yaml)' });
    expect(issues[0].line).toBeGreaterThanOrEqual(2);
  });

  it('parses Prometheus durations', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1d2h')).toBe(93_600_000);
    expect(parseDuration('15')).toBeUndefined();
    expect(parseDuration('1m1h')).toBeUndefined();
  });

  it('reads the limits, TLS and credentials it applies, with global fallbacks, and no longer warns about them', () => {
    const settings = parseScrapeConfig(
      [
        'global: { body_size_limit: 10MB, label_limit: 30, target_limit: 50 }',
        'scrape_configs:',
        '  - job_name: secure',
        '    scheme: https',
        '    label_limit: 20',
        '    label_name_length_limit: 64',
        '    label_value_length_limit: 256',
        '    body_size_limit: 512KiB',
        '    tls_config: { ca_file: /etc/ca.pem, cert_file: /etc/c.pem, key_file: /etc/k.pem, server_name: node-1, insecure_skip_verify: false }',
        '    authorization: { credentials_file: /run/token }',
        '  - job_name: basic',
        '    basic_auth: { username: scraper, password_file: /run/pw }',
      ].join('\n'),
      'c.yml',
    );
    expect(settings.warnings).toEqual([]);
    expect(settings.jobs[0]).toMatchObject({
      labelLimit: 20,
      labelNameLengthLimit: 64,
      labelValueLengthLimit: 256,
      targetLimit: 50,
      bodySizeLimit: 512 * 1024,
      http: {
        tls: {
          ca: { file: '/etc/ca.pem' },
          cert: { file: '/etc/c.pem' },
          key: { file: '/etc/k.pem' },
          serverName: 'node-1',
          insecureSkipVerify: false,
        },
        authorization: { type: 'Bearer', credentialsFile: '/run/token' },
      },
    });
    expect(settings.jobs[1]).toMatchObject({
      labelLimit: 30,
      bodySizeLimit: 10 * 1024 * 1024,
      http: { basicAuth: { username: 'scraper', passwordFile: '/run/pw' } },
    });
  });

  it('refuses contradictory credentials and sizes it cannot read', () => {
    const issues = issuesOf(
      [
        'scrape_configs:',
        '  - job_name: a',
        '    body_size_limit: lots',
        '    tls_config: { cert_file: /c.pem }',
        '    basic_auth: { username: u, password: p, password_file: /pw }',
      ].join('\n'),
    );
    expect(issues.map((i) => i.field).sort()).toEqual([
      'scrape_configs[0].basic_auth.password',
      'scrape_configs[0].body_size_limit',
      'scrape_configs[0].tls_config.key_file',
    ]);
    const both = issuesOf(
      [
        'scrape_configs:',
        '  - job_name: a',
        '    authorization: { credentials: t }',
        '    basic_auth: { username: u }',
      ].join('\n'),
    );
    expect(both.map((i) => [i.field, i.message])).toEqual([
      ['scrape_configs[0].authorization', 'at most one of basic_auth and authorization must be configured'],
    ]);
  });
});
