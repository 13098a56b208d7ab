import { createHash, createHmac } from 'node:crypto';
import {
  templateData,
  type Renderer,
  type TemplateData,
  type TemplateDataInput,
  type IntegrationConfig,
} from '@arcwatch/alertmanager';
import type { Severity } from '@arcwatch/contracts';

/**
 * The bodies ArcWatch sends, built from one notification: Alertmanager's webhook JSON (version 4)
 * with an HMAC-SHA256 signature, a Slack incoming-webhook message (Block Kit inside a coloured
 * attachment, with fallback text), PagerDuty Events v2 (trigger / acknowledge / resolve, dedup_key
 * the SHA-256 of the group key as Alertmanager computes it) and an e-mail. Pure functions.
 */
export interface NotificationAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  /** null while firing. */
  endsAt: Date | null;
  generatorURL: string;
  fingerprint: string;
}

export interface Notification {
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  alerts: NotificationAlert[];
  externalURL: string;
}

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Go's RFC3339Nano as Alertmanager writes times: UTC, fractional seconds only when non-zero. */
export function goTime(d: Date | null): string {
  if (d === null) return GO_ZERO_TIME;
  return d
    .toISOString()
    .replace(/\.000Z$/, 'Z')
    .replace(/(\.\d*?)0+Z$/, '$1Z');
}

function common(sets: Record<string, string>[]): Record<string, string> {
  if (sets.length === 0) return {};
  const out = { ...sets[0] };
  for (const s of sets.slice(1)) for (const k of Object.keys(out)) if (s[k] !== out[k]) delete out[k];
  return out;
}

export function notificationStatus(n: Pick<Notification, 'alerts'>): 'firing' | 'resolved' {
  return n.alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved';
}

export function toTemplateInput(n: Notification): TemplateDataInput {
  return {
    receiver: n.receiver,
    status: notificationStatus(n),
    alerts: n.alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: goTime(a.startsAt),
      endsAt: goTime(a.endsAt),
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    })),
    groupLabels: n.groupLabels,
    commonLabels: common(n.alerts.map((a) => a.labels)),
    commonAnnotations: common(n.alerts.map((a) => a.annotations)),
    externalURL: n.externalURL,
    groupKey: n.groupKey,
  };
}

export function sortLabels(l: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(l)
      .sort()
      .map((k) => [k, l[k]]),
  );
}

/** Alertmanager's webhook body (version 4); `maxAlerts` > 0 truncates and counts the rest. */
export function webhookBody(n: Notification, maxAlerts = 0): Record<string, unknown> {
  const input = toTemplateInput(n);
  const shown = maxAlerts > 0 ? n.alerts.slice(0, maxAlerts) : n.alerts;
  return {
    receiver: n.receiver,
    status: input.status,
    alerts: shown.map((a) => ({
      status: a.status,
      labels: sortLabels(a.labels),
      annotations: sortLabels(a.annotations),
      startsAt: goTime(a.startsAt),
      endsAt: goTime(a.endsAt),
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    })),
    groupLabels: sortLabels(n.groupLabels),
    commonLabels: sortLabels(input.commonLabels),
    commonAnnotations: sortLabels(input.commonAnnotations),
    externalURL: n.externalURL,
    version: '4',
    groupKey: n.groupKey,
    truncatedAlerts: n.alerts.length - shown.length,
  };
}

/** JSON as Go's encoder writes it (`<`, `>`, `&`, U+2028 and U+2029 escaped), so bodies match Alertmanager's byte for byte. */
export function goJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export const SIGNATURE_HEADER = 'X-ArcWatch-Signature-256';

/** `sha256=<hex HMAC of the exact body bytes>`, the form GitHub-style receivers verify. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const text = (r: Renderer, data: TemplateData, c: IntegrationConfig, field: string, fallback: string): string =>
  r.render(typeof c[field] === 'string' ? (c[field] as string) : fallback, data);

/** Slack incoming webhook: fallback text at the top level, Block Kit in an attachment carrying the colour. */
export function slackBody(n: Notification, c: IntegrationConfig, r: Renderer): Record<string, unknown> {
  const data = templateData(toTemplateInput(n));
  const title = text(r, data, c, 'title', '{{ template "slack.default.title" . }}');
  const titleLink = text(r, data, c, 'title_link', '{{ template "slack.default.titlelink" . }}');
  const body = text(r, data, c, 'text', '{{ template "slack.default.text" . }}');
  const fallback = text(r, data, c, 'fallback', '{{ template "slack.default.fallback" . }}');
  const color = text(r, data, c, 'color', '{{ template "slack.default.color" . }}');
  const username = text(r, data, c, 'username', '{{ template "slack.default.username" . }}');
  const blocks: Record<string, unknown>[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: titleLink ? `*<${titleLink}|${escapeSlack(title)}>*` : `*${escapeSlack(title)}*` },
    },
  ];
  if (body.trim() !== '') blocks.push({ type: 'section', text: { type: 'mrkdwn', text: body.slice(0, 3000) } });
  const firing = n.alerts.filter((a) => a.status === 'firing');
  const summaries = firing
    .slice(0, 10)
    .map((a) => `• ${escapeSlack(a.annotations.summary ?? a.labels.alertname ?? a.fingerprint)}`)
    .join('\n');
  if (summaries) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: summaries } });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `${firing.length} firing, ${n.alerts.length - firing.length} resolved · ${escapeSlack(n.receiver)}`,
      },
    ],
  });
  const out: Record<string, unknown> = { text: fallback, username, attachments: [{ color, fallback, blocks }] };
  if (typeof c.channel === 'string' && c.channel !== '') out.channel = c.channel;
  const emoji = text(r, data, c, 'icon_emoji', '{{ template "slack.default.iconemoji" . }}');
  if (emoji) out.icon_emoji = emoji;
  return out;
}

function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const PAGERDUTY_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  P0: 'critical',
  P1: 'error',
  P2: 'warning',
  P3: 'info',
};

/** Alertmanager's PagerDuty dedup key: hex SHA-256 of the group key. */
export function pagerdutyDedupKey(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex');
}

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

/** Events API v2 body. `severity` is the configured one, else the P0–P3 mapping, else `error`. */
export function pagerdutyBody(
  n: Notification,
  c: IntegrationConfig,
  r: Renderer,
  action: PagerDutyAction,
  severity?: Severity,
): Record<string, unknown> {
  const data = templateData(toTemplateInput(n));
  const routingKey = String(c.routing_key ?? c.service_key ?? '');
  const dedup = pagerdutyDedupKey(n.groupKey);
  if (action === 'acknowledge') return { routing_key: routingKey, dedup_key: dedup, event_action: action };
  const details: Record<string, string> = {
    firing: r.render('{{ template "pagerduty.default.instances" .Alerts.Firing }}', data),
    resolved: r.render('{{ template "pagerduty.default.instances" .Alerts.Resolved }}', data),
    num_firing: String(data.Alerts.Firing().length),
    num_resolved: String(data.Alerts.Resolved().length),
  };
  for (const [k, v] of Object.entries((c.details as Record<string, string> | undefined) ?? {}))
    details[k] = r.render(v, data);
  const client = text(r, data, c, 'client', '{{ template "pagerduty.default.client" . }}');
  const configured = typeof c.severity === 'string' && c.severity !== '' ? r.render(c.severity, data) : undefined;
  const payload: Record<string, unknown> = {
    summary: text(r, data, c, 'description', '{{ template "pagerduty.default.description" .}}').slice(0, 1024),
    source: typeof c.source === 'string' && c.source !== '' ? r.render(c.source, data) : client,
    severity: configured ?? (severity ? PAGERDUTY_SEVERITY[severity] : 'error'),
    custom_details: Object.fromEntries(
      Object.keys(details)
        .sort()
        .map((k) => [k, details[k]]),
    ),
  };
  for (const f of ['component', 'group', 'class'] as const)
    if (typeof c[f] === 'string' && c[f] !== '') payload[f] = r.render(c[f] as string, data);
  const body: Record<string, unknown> = {
    routing_key: routingKey,
    dedup_key: dedup,
    event_action: action,
    payload,
    client,
  };
  body.client_url = text(r, data, c, 'client_url', '{{ template "pagerduty.default.clientURL" . }}');
  return body;
}

export interface EmailMessage {
  to: string;
  from: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

export function emailMessage(n: Notification, c: IntegrationConfig, r: Renderer): EmailMessage {
  const data = templateData(toTemplateInput(n));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((c.headers as Record<string, string> | undefined) ?? {}))
    headers[k] = r.render(v, data);
  const subject = headers.Subject ?? r.render('{{ template "email.default.subject" . }}', data);
  delete headers.Subject;
  return {
    to: r.render(String(c.to ?? ''), data),
    from: r.render(String(c.from ?? ''), data),
    subject,
    html: r.render(typeof c.html === 'string' ? c.html : '{{ template "email.default.html" . }}', data),
    text: r.render(
      typeof c.text === 'string' && c.text !== '' ? c.text : '{{ template "email.default.text" . }}',
      data,
    ),
    headers,
  };
}
