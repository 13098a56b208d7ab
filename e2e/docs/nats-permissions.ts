/**
 * Each service's NATS user and what it may publish and subscribe to, derived from the public event
 * catalogue (libs/contracts: who publishes and who consumes each event, on which stream) and the
 * request/reply subjects. infra/nats/users.conf is rendered from this (write-nats-users.ts) and a
 * spec keeps the two equal, so a new event or consumer in the catalogue changes the permissions.
 *
 * JetStream consumers here are pull consumers: a service never subscribes to an event subject;
 * it asks the JetStream API for the next messages of its durable (replies come to its inbox) and
 * acks them. Consuming a stream is therefore permission to publish to that stream's consumer API
 * and ack subjects, never to its event subjects.
 */
import { ALERT_CONTEXT_SUBJECTS, PUBLIC_EVENTS, STREAMS, type PublicEvent, type StreamKey } from '@arcwatch/contracts';

export const NATS_SERVICES = ['collector', 'tracing', 'billing', 'anomaly', 'notifier', 'console', 'agent'] as const;
export type NatsService = (typeof NATS_SERVICES)[number];

export interface ServicePermissions {
  publish: string[];
  subscribe: string[];
}

/** A catalogue entry such as "collector writer" or "anomaly (budgets)" names a service; "billing systems" does not. */
function servicesNamed(entries: readonly string[]): Set<NatsService> {
  const out = new Set<NatsService>();
  for (const entry of entries) {
    const m = /^([a-z]+)(?: writer| \(.*\))?$/.exec(entry.trim());
    if (m && (NATS_SERVICES as readonly string[]).includes(m[1])) out.add(m[1] as NatsService);
  }
  return out;
}

/** aw.cost.v1.allocated.{tenant} → aw.cost.v1.allocated.* */
export function subjectPattern(subject: string): string {
  return subject.replace(/\{[^}]+\}/g, '*');
}

const streamName = (key: StreamKey) => STREAMS[key].name;

function streamAdmin(key: StreamKey): string[] {
  const s = streamName(key);
  // The service makes sure the stream exists (and updates its replicas); it may not delete or purge it.
  return [`$JS.API.STREAM.INFO.${s}`, `$JS.API.STREAM.CREATE.${s}`, `$JS.API.STREAM.UPDATE.${s}`];
}

function streamConsumer(key: StreamKey): string[] {
  const s = streamName(key);
  return [
    `$JS.API.CONSUMER.*.${s}.>`, // INFO / CREATE / DELETE of its durables
    `$JS.API.CONSUMER.DURABLE.CREATE.${s}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${s}.>`, // pull
    `$JS.ACK.${s}.>`, // ack, nak, term, working
  ];
}

/**
 * JetStream API beyond consuming: tracing reads the oldest message its assembly durable has not
 * acked, by sequence, before it assembles a request by a deadline (EventBus.oldestUnackedAt).
 */
const JETSTREAM_READS: Record<NatsService, StreamKey[]> = {
  collector: [],
  tracing: ['requests'],
  billing: [],
  anomaly: [],
  notifier: [],
  console: [],
  agent: [],
};

/** Request/reply (core NATS) beyond the catalogue: who answers which query and who asks. */
const REQUEST_REPLY: Record<NatsService, { answers: string[]; asks: string[] }> = {
  collector: { answers: [], asks: [] },
  tracing: { answers: ['aw.query.tracing.>', 'aw.cmd.tracing.>'], asks: [] },
  billing: { answers: ['aw.query.billing.>', 'aw.cmd.billing.>'], asks: [] },
  anomaly: { answers: ['aw.query.anomaly.>', 'aw.cmd.anomaly.>'], asks: [] },
  notifier: {
    answers: ['aw.query.notifier.>', 'aw.cmd.notifier.>', 'aw.evt.notifier.>'],
    asks: [ALERT_CONTEXT_SUBJECTS.affectedTenants, ALERT_CONTEXT_SUBJECTS.gpuCost, 'aw.evt.notifier.>'],
  },
  // The console reads and applies the other services' configuration files.
  console: { answers: [], asks: ['aw.query.*.config-files', 'aw.cmd.*.config-files.apply'] },
  agent: { answers: [], asks: [] },
};

export function servicePermissions(events: readonly PublicEvent[] = PUBLIC_EVENTS): Record<NatsService, ServicePermissions> {
  const out = {} as Record<NatsService, ServicePermissions>;
  for (const svc of NATS_SERVICES) {
    const published = events.filter((e) => e.stream !== 'deadLetter' && servicesNamed(e.publishers).has(svc));
    const consumed = events.filter((e) => e.stream !== 'deadLetter' && servicesNamed(e.consumers).has(svc));
    const publish = new Set<string>(['$JS.API.INFO']);
    for (const e of published) {
      publish.add(subjectPattern(e.subject));
      for (const p of streamAdmin(e.stream)) publish.add(p);
    }
    for (const e of consumed) {
      for (const p of [...streamAdmin(e.stream), ...streamConsumer(e.stream)]) publish.add(p);
      // What it cannot process goes to aw.dlq.<original subject>.
      publish.add(`aw.dlq.${subjectPattern(e.subject)}`);
    }
    if (consumed.length > 0) for (const p of streamAdmin('deadLetter')) publish.add(p);
    for (const key of JETSTREAM_READS[svc]) publish.add(`$JS.API.STREAM.MSG.GET.${streamName(key)}`);
    for (const s of REQUEST_REPLY[svc].asks) publish.add(s);
    out[svc] = {
      publish: [...publish].sort(),
      // Replies (PubAcks, pulled messages, request/reply answers) come to the connection's inbox.
      subscribe: ['_INBOX.>', ...REQUEST_REPLY[svc].answers].sort(),
    };
  }
  return out;
}

/** The environment variable that holds a service's NATS password on the server side. */
export const passwordVariable = (svc: NatsService) => `NATS_PASSWORD_${svc.toUpperCase()}`;

/**
 * infra/nats/users.conf: nats-server's authorization block, passwords from the server's
 * environment. `extraUsers` (tests only) are more entries of the users list, as written.
 */
export function renderUsersConf(perms = servicePermissions(), extraUsers: string[] = []): string {
  const q = (s: string) => JSON.stringify(s);
  const list = (xs: string[]) => `[\n${xs.map((x) => `          ${q(x)}`).join(',\n')}\n        ]`;
  const lines = [
    '# Generated from the event catalogue (libs/contracts) by e2e/docs/nats-permissions.ts:',
    '#   node tools/register.js e2e/docs/write-nats-users.ts',
    '# One NATS user per ArcWatch service; it may publish only its own subjects and use only the',
    "# streams it publishes to or consumes. Passwords come from nats-server's environment",
    '# (NATS_PASSWORD_<SERVICE>); each service connects with NATS_USER and NATS_PASSWORD(_FILE).',
    'authorization {',
    '  users = [',
  ];
  NATS_SERVICES.forEach((svc, i) => {
    const p = perms[svc];
    lines.push(
      '    {',
      `      user: ${q(svc)}`,
      `      password: $${passwordVariable(svc)}`,
      '      permissions: {',
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      // Answering a request publishes to the asker's reply inbox.
      `        allow_responses: ${REQUEST_REPLY[svc].answers.length > 0 ? 'true' : 'false'}`,
      '      }',
      `    }${i < NATS_SERVICES.length - 1 || extraUsers.length > 0 ? ',' : ''}`,
    );
  });
  lines.push(extraUsers.map((u) => `    ${u}`).join(',\n'));
  if (extraUsers.length === 0) lines.pop();
  lines.push('  ]', '}', '');
  return lines.join('\n');
}
