import { TemplateSet } from './go-template';
import { loadTemplates, templateData, type TemplateDataInput } from './notification-template';

const base: TemplateDataInput = {
  receiver: 'team-X pager',
  status: 'firing',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'GpuHot', gpu: '3', instance: 'node-1', severity: 'P0' },
      annotations: { summary: 'GPU 3 at 91C' },
      startsAt: '2026-12-03T10:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prom/graph?g0.expr=x',
      fingerprint: '0123456789abcdef',
    },
    {
      status: 'resolved',
      labels: { alertname: 'GpuHot', gpu: '4', instance: 'node-1', severity: 'P0' },
      annotations: {},
      startsAt: '2026-12-03T10:00:00Z',
      endsAt: '2026-12-03T10:05:00Z',
      generatorURL: 'http://prom/graph?g0.expr=x',
      fingerprint: 'fedcba9876543210',
    },
  ],
  groupLabels: { alertname: 'GpuHot' },
  commonLabels: { alertname: 'GpuHot', instance: 'node-1', severity: 'P0' },
  commonAnnotations: {},
  externalURL: 'http://arcwatch:9093',
  groupKey: '{}:{alertname="GpuHot"}',
};

describe("Alertmanager's default notification templates", () => {
  const set = loadTemplates([], '/');
  const data = templateData(base);

  it('builds the subject as [STATUS:firing count] group label values (other common label values)', () => {
    expect(set.execute('slack.default.title', data)).toBe('[FIRING:1] GpuHot (node-1 P0)');
    expect(set.execute('pagerduty.default.description', data)).toBe('[FIRING:1] GpuHot (node-1 P0)');
    const resolved = templateData({ ...base, status: 'resolved', commonLabels: base.groupLabels });
    expect(set.execute('email.default.subject', resolved)).toBe('[RESOLVED] GpuHot ');
  });

  it('links to the receiver with the name query-escaped, and colours by status', () => {
    expect(set.execute('slack.default.titlelink', data)).toBe('http://arcwatch:9093/#/alerts?receiver=team-X+pager');
    expect(set.execute('slack.default.fallback', data)).toBe(
      '[FIRING:1] GpuHot (node-1 P0) | http://arcwatch:9093/#/alerts?receiver=team-X+pager',
    );
    expect(set.execute('slack.default.color', data)).toBe('danger');
    expect(set.execute('slack.default.color', templateData({ ...base, status: 'resolved' }))).toBe('good');
  });

  it('lists alerts with sorted labels and annotations', () => {
    expect(set.execute('pagerduty.default.instances', templateData({ ...base, alerts: [base.alerts[0]] }).Alerts)).toBe(
      'Labels:\n - alertname = GpuHot\n - gpu = 3\n - instance = node-1\n - severity = P0\nAnnotations:\n - summary = GPU 3 at 91C\nSource: http://prom/graph?g0.expr=x\n',
    );
  });

  it('lets a user template override a default and use range, with, variables, printf and trim markers', () => {
    const own = new TemplateSet().parse('defaults', '{{ define "slack.default.title" }}default{{ end }}').parse(
      'user.tmpl',
      `{{ define "slack.default.title" }}{{ $n := len .Alerts }}{{ printf "%d alerts" $n }}{{ end }}
{{ define "list" }}{{ range $i, $a := .Alerts -}}
  {{ $i }}:{{ $a.Labels.gpu }}{{ with $a.Annotations.summary }}={{ . }}{{ else }}-{{ end }};
{{- end }}{{ end }}`,
    );
    expect(own.execute('slack.default.title', data)).toBe('2 alerts');
    expect(own.execute('list', data)).toBe('0:3=GPU 3 at 91C;1:4-;');
  });

  it('rejects a template that does not parse', () => {
    expect(() => new TemplateSet().parse('bad', '{{ if .X }}no end')).toThrow(/unexpected EOF/);
    expect(() => new TemplateSet().parse('bad', '{{ end }}')).toThrow(/unexpected \{\{end\}\}/);
  });
});
