/** Label and annotation templates expand as in Prometheus (values checked against Go's formatting). */
import { checkAlertTemplate, expandAlertTemplate, type AlertTemplateInput } from './alert-template';
import { QuerySample } from './template-functions';

const base: AlertTemplateInput = {
  alertName: 'GpuHot',
  labels: { __name__: 'DCGM_FI_DEV_GPU_TEMP', gpu: '3', Hostname: 'node-2', instance: 'node-2:9400' },
  externalLabels: { site: 'eqiad' },
  externalUrl: 'http://arcwatch:9093',
  value: 91.25,
  timeMs: 1_700_000_000_000,
  query: async (q) =>
    q === 'up'
      ? [new QuerySample({ __name__: 'up', job: 'b' }, 1), new QuerySample({ __name__: 'up', job: 'a' }, 0)]
      : [],
};
const x = (t: string, over: Partial<AlertTemplateInput> = {}): Promise<string> =>
  expandAlertTemplate(t, { ...base, ...over });

describe('alert templates', () => {
  it.each([
    ['GPU {{ $labels.gpu }} on {{$labels.Hostname}} is {{ $value }}', 'GPU 3 on node-2 is 91.25'],
    ['{{ $externalLabels.site }} {{ .ExternalURL }}', 'eqiad http://arcwatch:9093'],
    ['{{ $labels.missing }}|', '|'],
    ['{{ $labels.instance | stripPort }}', 'node-2'],
    ['{{ printf "%.2f" $value }}', '91.25'],
    ['{{ printf "%.1f" $value }}', '91.2'],
    ['{{ printf "%d" 3 }} {{ printf "%s=%q" "a" "b" }}', '3 a="b"'],
    ['{{ 1048576 | humanize1024 }} {{ humanize 1048576 }}', '1Mi 1.049M'],
    [
      '{{ humanizeDuration 135.3563 }} {{ humanizeDuration 0.25 }} {{ humanizeDuration 90061 }}',
      '2m 15s 250ms 1d 1h 1m 1s',
    ],
    ['{{ humanizePercentage 0.959 }} {{ humanizePercentage 0.015625 }}', '95.9% 1.562%'],
    ['{{ humanizeTimestamp 1643114203 }}', '2022-01-25 12:36:43 +0000 UTC'],
    ['{{ if gt $value 90.0 }}hot{{ else }}ok{{ end }}', 'hot'],
    ['{{ with $labels.gpu }}gpu={{ . }}{{ end }}{{ with $labels.none }}x{{ else }}-{{ end }}', 'gpu=3-'],
    [
      '{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}',
      'Hostname=node-2;__name__=DCGM_FI_DEV_GPU_TEMP;gpu=3;instance=node-2:9400;',
    ],
    ['{{ range query "up" | sortByLabel "job" }}{{ .Labels.job }}:{{ .Value }} {{ end }}', 'a:0 b:1 '],
    ['{{ with query "up" }}{{ . | first | label "job" }}{{ end }}', 'b'],
    [
      '{{ reReplaceAll "node-(.*)" "n$1" $labels.Hostname }} {{ toUpper "a" }} {{ title "hello world" }}',
      'n2 A Hello World',
    ],
    ['{{ "a b&c" | urlquery }}', 'a+b%26c'],
    ['{{- " x " -}}  ', ' x '],
    ['{{ define "t" }}[{{ .arg0 }}]{{ end }}{{ template "t" (args "v" 2) }}', '[v]'],
    ['{{ $labels }}', 'map[Hostname:node-2 __name__:DCGM_FI_DEV_GPU_TEMP gpu:3 instance:node-2:9400]'],
  ])('%s → %s', async (t, want) => {
    expect(await x(t)).toBe(want);
  });

  it('prints $value as Go does: shortest form, exponent from 1e+06', async () => {
    expect(await x('{{ $value }}', { value: 1_000_000 })).toBe('1e+06');
    expect(await x('{{ $value }}', { value: 123456 })).toBe('123456');
    expect(await x('{{ $value }}', { value: 0.00001 })).toBe('1e-05');
    expect(await x('{{ $value }}', { value: NaN })).toBe('NaN');
  });

  it('an execution error becomes the expansion text, as in Prometheus', async () => {
    expect(await x('{{ with query "none" }}{{ . | first }}{{ end }}{{ first (query "none") }}')).toMatch(
      /^<error expanding template: template: __alert_GpuHot:1: .*first\(\) called on vector with no elements>$/,
    );
    expect(await x('{{ $.labels.service }}')).toMatch(/can't evaluate field labels/);
  });

  it('parse errors are found at load: undefined variables, unknown functions, unclosed actions', () => {
    expect(checkAlertTemplate('Instance {{ $label.foo }} down', 'InstanceDown')).toBe(
      'template: __alert_InstanceDown:1: undefined variable "$label"',
    );
    expect(checkAlertTemplate('{{ nope 1 }}', 'A')).toBe('template: __alert_A:1: function "nope" not defined');
    expect(checkAlertTemplate('{{ if 1 }}x', 'A')).toMatch(/unexpected EOF/);
    expect(checkAlertTemplate('{{ $labels.x', 'A')).toMatch(/unclosed action/);
    expect(checkAlertTemplate('{{ $labels.instance }} ok', 'A')).toBeUndefined();
  });
});
