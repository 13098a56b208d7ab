import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAlertmanagerConfigFile, loadTemplates, renderer } from '@arcwatch/alertmanager';
import { FIXTURES_DIR } from '@arcwatch/testing';
import {
  goJson,
  goTime,
  pagerdutyBody,
  pagerdutyDedupKey,
  signBody,
  slackBody,
  webhookBody,
  type Notification,
} from './payloads';

const AM = path.join(FIXTURES_DIR, 'alertmanager');
const NOTIF = path.join(FIXTURES_DIR, 'notifications');
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

function fromWebhook(body: Record<string, unknown>): Notification {
  return {
    receiver: String(body.receiver),
    groupKey: String(body.groupKey),
    groupLabels: body.groupLabels as Record<string, string>,
    externalURL: String(body.externalURL),
    alerts: (body.alerts as WebhookAlert[]).map((a) => ({
      ...a,
      startsAt: new Date(a.startsAt),
      endsAt: a.endsAt.startsWith('0001-') ? null : new Date(a.endsAt),
    })),
  };
}

describe('payloads built like Alertmanager 0.25 built the captured ones', () => {
  const r = renderer(loadTemplates([], '/'));

  it.each([
    '01-firing-warning-single.json',
    '04-resolved-warning-single.json',
    '07-firing-api-posted-2alerts.json',
    '08-firing-group-with-one-resolved.json',
  ])('webhook v4 body of %s is byte for byte the captured one', (name) => {
    const raw = readFileSync(path.join(AM, 'captured-webhooks', name), 'utf8').trim();
    expect(goJson(webhookBody(fromWebhook(JSON.parse(raw) as Record<string, unknown>)))).toBe(raw);
  });

  it('truncates to max_alerts and counts the rest, as the captured max_alerts: 2 body', () => {
    const captured = json(path.join(AM, 'captured-webhooks', '02-firing-critical-truncated-max_alerts2.json'));
    const body = webhookBody(
      {
        ...fromWebhook(captured),
        alerts: [...fromWebhook(captured).alerts, ...fromWebhook(captured).alerts.slice(0, 1)],
      },
      2,
    );
    expect(body.truncatedAlerts).toBe(1);
    expect((body.alerts as unknown[]).length).toBe(2);
  });

  it('signs the exact body with HMAC-SHA256', () => {
    const expected = createHmac('sha256', 'secret').update('{"a":1}').digest('hex');
    expect(signBody('{"a":1}', 'secret')).toBe(`sha256=${expected}`);
    expect(signBody('{"a":1}', 'secret')).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signBody('{"a":1}', 'secret')).not.toBe(signBody('{"a":2}', 'secret'));
  });

  const cfg = loadAlertmanagerConfigFile(path.join(NOTIF, 'capture-alertmanager-notify.yml'));
  const posted = JSON.parse(readFileSync(path.join(NOTIF, 'capture-posted-alerts.json'), 'utf8')) as {
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    generatorURL: string;
  }[];
  const xid = posted[0];
  const notification = (status: 'firing' | 'resolved', receiver: string, groupKey: string): Notification => ({
    receiver,
    groupKey,
    groupLabels: { alertname: xid.labels.alertname, cluster: xid.labels.cluster },
    externalURL: 'http://alertmanager.capture-lab.invalid:9093',
    alerts: [
      {
        status,
        labels: xid.labels,
        annotations: xid.annotations,
        startsAt: new Date(xid.startsAt),
        endsAt: status === 'resolved' ? new Date('2026-11-22T06:51:00Z') : null,
        generatorURL: xid.generatorURL,
        fingerprint: '0000000000000000',
      },
    ],
  });
  const pdConfig = cfg.receivers.find((x) => x.name === 'arcwatch-pagerduty')?.integrations[0].config ?? {};
  const pdKey = '{}/{severity="critical"}:{alertname="GpuXidError", cluster="capture-lab"}';

  it('PagerDuty trigger and resolve bodies equal the captured ones (dedup_key = SHA-256 of the group key)', () => {
    expect(pagerdutyDedupKey(pdKey)).toBe('ca211daf6da276c2a2745fb9ea88e690d6b6b649725717c0fd66c7049fbd063c');
    expect(pagerdutyBody(notification('firing', 'arcwatch-pagerduty', pdKey), pdConfig, r, 'trigger')).toEqual(
      json(path.join(NOTIF, 'pagerduty', 'alertmanager-0.25-captured.trigger.json')),
    );
    expect(pagerdutyBody(notification('resolved', 'arcwatch-pagerduty', pdKey), pdConfig, r, 'resolve')).toEqual(
      json(path.join(NOTIF, 'pagerduty', 'alertmanager-0.25-captured.resolve.json')),
    );
    expect(pagerdutyBody(notification('firing', 'arcwatch-pagerduty', pdKey), pdConfig, r, 'acknowledge')).toEqual({
      routing_key: '0123456789abcdef0123456789abcdef',
      dedup_key: 'ca211daf6da276c2a2745fb9ea88e690d6b6b649725717c0fd66c7049fbd063c',
      event_action: 'acknowledge',
    });
  });

  it('Slack: the fallback text, title, link and colour are the captured ones; blocks carry them', () => {
    const slackCfg = cfg.receivers.find((x) => x.name === 'arcwatch-slack')?.integrations[0].config ?? {};
    const captured = json(path.join(NOTIF, 'slack', 'alertmanager-0.25-captured.firing-critical.json'));
    const att = (captured.attachments as Record<string, string>[])[0];
    const body = slackBody(
      notification(
        'firing',
        'arcwatch-slack',
        '{}/{severity=~"critical|warning"}:{alertname="GpuXidError", cluster="capture-lab"}',
      ),
      slackCfg,
      r,
    );
    expect(body.text).toBe(att.fallback);
    expect(body.channel).toBe(captured.channel);
    expect(body.username).toBe(captured.username);
    const ours = (body.attachments as Record<string, unknown>[])[0];
    expect(ours.color).toBe(att.color);
    expect(JSON.stringify(ours.blocks)).toContain(`<${att.title_link}|${att.title}>`);
  });

  it('writes times as Go does', () => {
    expect(goTime(new Date('2026-11-22T06:49:10Z'))).toBe('2026-11-22T06:49:10Z');
    expect(goTime(new Date('2026-11-22T06:49:10.120Z'))).toBe('2026-11-22T06:49:10.12Z');
    expect(goTime(null)).toBe('0001-01-01T00:00:00Z');
  });
});
