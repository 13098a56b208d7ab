import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TemplateSet, type TemplateFunc } from './go-template';

/**
 * The data a notification template sees (Alertmanager's template.Data) and the default titles and
 * texts of Alertmanager for Slack, PagerDuty, e-mail and webhooks. Users override them with their
 * own `templates:` files and per-receiver fields, exactly as in Alertmanager.
 */
export interface TemplateAlertInput {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface TemplateDataInput {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: TemplateAlertInput[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  groupKey: string;
  truncatedAlerts?: number;
}

interface Pair {
  Name: string;
  Value: string;
}

type Pairs = Pair[] & { Names(): string[]; Values(): string[] };

/** A label set as templates see it: fields by name plus SortedPairs / Names / Values / Remove. */
export class KV {
  [name: string]: unknown;

  constructor(labels: Record<string, string>) {
    for (const [k, v] of Object.entries(labels)) this[k] = v;
  }

  /** Alertmanager's order: `alertname` first, then the other names bytewise. */
  private own(): [string, string][] {
    return Object.keys(this)
      .sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : a > b ? 1 : 0))
      .map((k) => [k, String(this[k])]);
  }

  SortedPairs(): Pairs {
    const pairs = this.own().map(([Name, Value]) => ({ Name, Value }));
    return Object.assign(pairs, {
      Names: () => pairs.map((p) => p.Name),
      Values: () => pairs.map((p) => p.Value),
    });
  }

  Names(): string[] {
    return this.own().map(([k]) => k);
  }

  Values(): string[] {
    return this.own().map(([, v]) => v);
  }

  Remove(names: string[]): KV {
    return new KV(Object.fromEntries(this.own().filter(([k]) => !names.includes(k))));
  }
}

for (const m of ['own', 'SortedPairs', 'Names', 'Values', 'Remove']) {
  Object.defineProperty(KV.prototype, m, { enumerable: false });
}

export interface TemplateAlert {
  Status: string;
  Labels: KV;
  Annotations: KV;
  StartsAt: Date;
  EndsAt: Date;
  GeneratorURL: string;
  Fingerprint: string;
}

export type TemplateAlerts = TemplateAlert[] & { Firing(): TemplateAlert[]; Resolved(): TemplateAlert[] };

export interface TemplateData {
  Receiver: string;
  Status: string;
  Alerts: TemplateAlerts;
  GroupLabels: KV;
  CommonLabels: KV;
  CommonAnnotations: KV;
  ExternalURL: string;
  GroupKey: string;
  TruncatedAlerts: number;
}

function alerts(list: TemplateAlert[]): TemplateAlerts {
  return Object.assign(list, {
    Firing: () => alerts(list.filter((a) => a.Status === 'firing')),
    Resolved: () => alerts(list.filter((a) => a.Status === 'resolved')),
  });
}

export function templateData(d: TemplateDataInput): TemplateData {
  return {
    Receiver: d.receiver,
    Status: d.status,
    Alerts: alerts(
      d.alerts.map((a) => ({
        Status: a.status,
        Labels: new KV(a.labels),
        Annotations: new KV(a.annotations),
        StartsAt: new Date(a.startsAt),
        EndsAt: new Date(a.endsAt),
        GeneratorURL: a.generatorURL,
        Fingerprint: a.fingerprint,
      })),
    ),
    GroupLabels: new KV(d.groupLabels),
    CommonLabels: new KV(d.commonLabels),
    CommonAnnotations: new KV(d.commonAnnotations),
    ExternalURL: d.externalURL,
    GroupKey: d.groupKey,
    TruncatedAlerts: d.truncatedAlerts ?? 0,
  };
}

/** Alertmanager's default templates for the channels ArcWatch delivers to. */
export const DEFAULT_TEMPLATES = `
{{ define "__alertmanager" }}Alertmanager{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}
{{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}
{{ define "__description" }}{{ end }}
{{ define "__text_alert_list" }}{{ range . }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Annotations:
{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}
{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "slack.default.fallback" }}{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}{{ end }}
{{ define "slack.default.callbackid" }}{{ end }}
{{ define "slack.default.pretext" }}{{ end }}
{{ define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "slack.default.iconemoji" }}{{ end }}
{{ define "slack.default.iconurl" }}{{ end }}
{{ define "slack.default.text" }}{{ end }}
{{ define "slack.default.footer" }}{{ end }}
{{ define "slack.default.color" }}{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}{{ end }}
{{ define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }}
{{ define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "pagerduty.default.clientURL" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }}
{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{ define "email.default.text" }}{{ template "__subject" . }}
{{ if gt (len .Alerts.Firing) 0 }}Firing:
{{ template "__text_alert_list" .Alerts.Firing }}{{ end }}{{ if gt (len .Alerts.Resolved) 0 }}Resolved:
{{ template "__text_alert_list" .Alerts.Resolved }}{{ end }}{{ template "__alertmanagerURL" . }}
{{ end }}
{{ define "email.default.html" }}<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>{{ template "__subject" . }}</title></head>
<body style="font-family: sans-serif">
<h2 style="color: {{ if eq .Status "firing" }}#E6522C{{ else }}#68B90F{{ end }}">{{ .Alerts | len }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for {{ range .GroupLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}</h2>
<p><a href="{{ template "__alertmanagerURL" . }}">View in {{ template "__alertmanager" . }}</a></p>
{{ if gt (len .Alerts.Firing) 0 }}<h3>[{{ .Alerts.Firing | len }}] Firing</h3>
{{ range .Alerts.Firing }}<p><strong>Labels</strong><br>{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}{{ if gt (len .Annotations) 0 }}<strong>Annotations</strong><br>{{ end }}{{ range .Annotations.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}<a href="{{ .GeneratorURL }}">Source</a></p>
{{ end }}{{ end }}{{ if gt (len .Alerts.Resolved) 0 }}<h3>[{{ .Alerts.Resolved | len }}] Resolved</h3>
{{ range .Alerts.Resolved }}<p><strong>Labels</strong><br>{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}<a href="{{ .GeneratorURL }}">Source</a></p>
{{ end }}{{ end }}</body></html>
{{ end }}
`;

/** Glob with `*` and `?` in the last path element only (what Alertmanager's `templates:` use). */
export function expandTemplateGlob(pattern: string, baseDir: string): string[] {
  const abs = path.isAbsolute(pattern) ? pattern : path.join(baseDir, pattern);
  const dir = path.dirname(abs);
  const base = path.basename(abs);
  if (!/[*?[]/.test(base)) {
    try {
      readFileSync(abs);
      return [abs];
    } catch {
      return [];
    }
  }
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  try {
    return readdirSync(dir)
      .filter((n) => re.test(n))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** The default templates plus the user's `templates:` files (globs relative to the config file). */
export function loadTemplates(globs: readonly string[], baseDir: string): TemplateSet {
  const set = new TemplateSet().parse('__defaults', DEFAULT_TEMPLATES);
  for (const g of globs) for (const file of expandTemplateGlob(g, baseDir)) set.parse(file, readFileSync(file, 'utf8'));
  return set;
}

export interface Renderer {
  /** Renders a receiver field (e.g. `title: '{{ template "slack.default.title" . }}'`). */
  render(text: string, data: TemplateData): string;
}

export function renderer(set: TemplateSet, funcs: Record<string, TemplateFunc> = {}): Renderer {
  return { render: (text, data) => (text.includes('{{') ? set.executeText(text, data, funcs) : text) };
}
