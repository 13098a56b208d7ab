import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR } from '@arcwatch/testing';
import { ConfigFileError, type ConfigIssue } from '@arcwatch/config-files';
import { parseRuleFile, type RuleLoadOptions } from './rule-file.loader';

const RULES_DIR = path.join(FIXTURES_DIR, 'alert-rules');
const read = (rel: string) => readFileSync(path.join(RULES_DIR, rel), 'utf8');

function issuesOf(rel: string, opts?: RuleLoadOptions): ConfigIssue[] {
  try {
    parseRuleFile(read(rel), rel, opts);
  } catch (err) {
    if (err instanceof ConfigFileError) return err.issues;
    throw err;
  }
  return [];
}

describe('rule files as Prometheus writes them', () => {
  const rulefmt = readdirSync(path.join(RULES_DIR, 'prometheus-rulefmt')).filter((f) => f.endsWith('.yaml'));

  it.each(rulefmt.filter((f) => !f.endsWith('.bad.yaml')).map((f) => [f]))('accepts prometheus-rulefmt/%s', (f) => {
    expect(issuesOf(`prometheus-rulefmt/${f}`)).toEqual([]);
  });

  // legacy_validation_annotation.bad.yaml is rejected only under the legacy name rules, as upstream.
  it.each(rulefmt.filter((f) => f.endsWith('.bad.yaml')).map((f) => [f]))('rejects prometheus-rulefmt/%s', (f) => {
    const opts: RuleLoadOptions = f.startsWith('legacy_') ? { nameValidation: 'legacy' } : {};
    expect(issuesOf(`prometheus-rulefmt/${f}`, opts).length).toBeGreaterThan(0);
  });

  it('names file, line and field of each problem', () => {
    expect(issuesOf('prometheus-rulefmt/bad_field.bad.yaml')).toEqual([
      {
        file: 'prometheus-rulefmt/bad_field.bad.yaml',
        line: 8,
        column: 9,
        field: 'groups[0].rules[0].annotation',
        message: 'unknown field',
      },
    ]);
    expect(issuesOf('prometheus-rulefmt/record_and_for.bad.yaml')).toEqual([
      {
        file: 'prometheus-rulefmt/record_and_for.bad.yaml',
        line: 6,
        column: 9,
        field: 'groups[0].rules[0].for',
        message: "invalid field 'for' in recording rule",
      },
    ]);
    expect(issuesOf('prometheus-rulefmt/duplicate_grp.bad.yaml')).toEqual([
      {
        file: 'prometheus-rulefmt/duplicate_grp.bad.yaml',
        line: 3,
        column: 11,
        field: 'groups[1].name',
        message: 'groupname: "yolo" is repeated in the same file',
      },
    ]);
    const [expr] = issuesOf('prometheus-rulefmt/bad_expr.bad.yaml');
    expect(expr).toMatchObject({ line: 5, field: 'groups[0].rules[0].expr' });
    expect(expr.message).toMatch(/^could not parse expression: 1:6: parse error: /);
    expect(issuesOf('prometheus-rulefmt/invalid_label_name.bad.yaml')).toEqual([
      {
        file: 'prometheus-rulefmt/invalid_label_name.bad.yaml',
        line: 7,
        column: 11,
        field: 'groups[0].rules[0].labels.__name__',
        message: 'invalid label name: __name__',
      },
    ]);
  });

  it('keeps the recording rules with group and rule labels, counts alerting rules, takes intervals', () => {
    const groups = parseRuleFile(read('prometheus-rulefmt/test.yaml'), 'test.yaml');
    expect(groups.map((g) => [g.name, g.intervalMs, g.recording.map((r) => r.record), g.alerting.length])).toEqual([
      ['my-group-name', 30_000, ['new_metric'], 2],
      ['my-another-name', 30_000, ['new_metric'], 2],
    ]);
    expect(groups[0].recording[0].labels).toEqual({ abc: 'edf', uvw: 'xyz' });
    expect(parseRuleFile('groups: [{name: g, rules: []}]', 'x.yml', { defaultIntervalMs: 15_000 })[0].intervalMs).toBe(
      15_000,
    );
  });

  it('reads PrometheusRule resources through spec.groups', () => {
    const groups = parseRuleFile(read('gpu/gardener-ai-conformance.gpu-prometheusrule.yaml'), 'gpu.yaml');
    expect(groups.map((g) => g.recording.map((r) => [r.record, r.labels]))).toEqual([
      [
        ['gpu_utilization_per_pod', { namespace: 'default' }],
        ['cuda_gpu', { namespace: 'default', deployment: 'gpu-workload' }],
        ['pod_gpu_utilization', {}],
      ],
    ]);
  });

  it.each([
    ['kube-prometheus/alertmanager-prometheusRule.yaml'],
    ['kube-prometheus/grafana-prometheusRule.yaml'],
    ['kube-prometheus/kubePrometheus-prometheusRule.yaml'],
    ['kube-prometheus/kubeStateMetrics-prometheusRule.yaml'],
    ['kube-prometheus/kubernetesControlPlane-prometheusRule.yaml'],
    ['kube-prometheus/nodeExporter-prometheusRule.yaml'],
    ['kube-prometheus/prometheus-prometheusRule.yaml'],
    ['kube-prometheus/prometheusOperator-prometheusRule.yaml'],
    ['awesome-prometheus-alerts/host-and-hardware.node-exporter.yml'],
    ['promtool-unittest/rules.yml'],
    ['gpu/ibm-autopilot.healthchecks-alerts.yaml'],
  ])('accepts the real rule file %s', (rel) => {
    expect(issuesOf(rel)).toEqual([]);
  });

  it('reports a YAML syntax error with its line', () => {
    expect(() => parseRuleFile('groups:\n  - name: a\n   rules: [', 'broken.yml')).toThrow(
      /broken\.yml:\d+:\d+: \(yaml\)/,
    );
  });
});

describe('alerting rules', () => {
  it('keeps for, keep_firing_for, labels and annotations with group labels under the rule labels', () => {
    const text = [
      'groups:',
      '  - name: g',
      '    labels: { team: infra, severity: P3 }',
      '    rules:',
      '      - alert: Down',
      '        expr: up == 0',
      '        for: 1m',
      '        keep_firing_for: 30s',
      '        labels: { severity: P0 }',
      '        annotations: { summary: "{{ $labels.instance }} is down" }',
      '      - record: x:sum',
      '        expr: sum(up)',
    ].join('\n');
    const [group] = parseRuleFile(text, 'a.yml');
    expect(group.alerting.map((r) => [r.alert, r.expr, r.forMs, r.keepFiringForMs, r.labels, r.annotations])).toEqual([
      [
        'Down',
        'up == 0',
        60_000,
        30_000,
        { team: 'infra', severity: 'P0' },
        { summary: '{{ $labels.instance }} is down' },
      ],
    ]);
    expect(group.rules.map((r) => r.kind)).toEqual(['alerting', 'recording']);
  });
});
