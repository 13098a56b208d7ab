#!/usr/bin/env node
// A running bill from ArcWatch's cost events: reads aw.cost.v1.allocated.* (estimates) and
// aw.cost.v1.reconciled.* (final figures that replace them) from JetStream, checks each event
// against its published JSON Schema, and prints every event with the tenant's running total.
// Uses nats.js and the schemas in docs/events/schemas only. Money is summed exactly as integer
// micro-units (the events carry decimal strings with at most 6 decimals).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { check } from './schema-check.mjs';

const { values: opts } = parseArgs({
  options: {
    servers: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
    stream: { type: 'string', default: 'AW_COST' },
    subject: { type: 'string', default: 'aw.cost.v1.>' },
    schemas: {
      type: 'string',
      default: path.join(path.dirname(new URL(import.meta.url).pathname), '../../docs/events/schemas'),
    },
    count: { type: 'string' }, // stop after this many messages of the stream (any type)
    'idle-ms': { type: 'string' },
  },
});

const schemas = new Map();
for (const f of readdirSync(opts.schemas)) {
  if (!f.startsWith('io.arcwatch.cost.') || !f.endsWith('.schema.json')) continue;
  const s = JSON.parse(readFileSync(path.join(opts.schemas, f), 'utf8'));
  schemas.set(s.properties.type.const, s);
}

const micro = (s) => {
  const neg = s.startsWith('-');
  const [whole, frac = ''] = (neg ? s.slice(1) : s).split('.');
  const v = BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, '0'));
  return neg ? -v : v;
};
const money = (v) => {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / 1_000_000n}.${String(a % 1_000_000n).padStart(6, '0')}`;
};

// Each estimate by its event id; a reconciled event replaces the estimate it names.
const lines = new Map(); // event id → { tenant, currency, amount, final }
const replaced = new Set();
const totals = () => {
  const t = new Map();
  for (const l of lines.values()) {
    const k = `${l.tenant} ${l.currency}`;
    t.set(k, (t.get(k) ?? 0n) + l.amount);
  }
  return t;
};

const nc = await connect({ servers: opts.servers });
const js = jetstream(nc);
const consumer = await js.consumers.get(opts.stream, {
  filter_subjects: opts.subject,
  deliver_policy: DeliverPolicy.All,
});
const limit = opts.count === undefined ? Infinity : Number(opts.count);
const messages = await consumer.consume({ idle_heartbeat: 1000 });
let seen = 0;
let idleTimer;
const armIdle = () => {
  if (opts['idle-ms'] === undefined) return;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => messages.stop(), Number(opts['idle-ms']));
};
armIdle();
for await (const m of messages) {
  armIdle();
  let event;
  try {
    event = JSON.parse(new TextDecoder().decode(m.data));
  } catch {
    console.error(`${m.subject}: not JSON, skipped`);
    if (++seen >= limit) break;
    continue;
  }
  seen++;
  const schema = schemas.get(event.type);
  const billable = event.type === 'io.arcwatch.cost.allocated.v1' || event.type === 'io.arcwatch.cost.reconciled.v1';
  if (!schema || !billable) {
    // Budget events and types this example does not know are not part of the bill.
    if (seen >= limit) break;
    continue;
  }
  const problems = check(schema, event);
  if (problems.length > 0) {
    console.error(`${m.subject} ${event.id}: does not match ${event.type}: ${problems.slice(0, 3).join('; ')}`);
    if (seen >= limit) break;
    continue;
  }
  const d = event.data;
  if (event.type === 'io.arcwatch.cost.reconciled.v1') {
    lines.delete(d.supersedes);
    replaced.add(d.supersedes);
    lines.set(event.id, { tenant: d.tenant, currency: d.currency, amount: micro(d.amount), final: true });
  } else if (!replaced.has(event.id)) {
    lines.set(event.id, { tenant: d.tenant, currency: d.currency, amount: micro(d.amount), final: false });
  }
  const total = totals().get(`${d.tenant} ${d.currency}`) ?? 0n;
  const label = d.status === 'final' ? 'final   ' : 'estimate';
  console.log(
    `${d.periodStart} ${d.tenant.padEnd(14)} ${d.kind.padEnd(12)} ${label} ${d.amount.padStart(12)} ${d.currency}  bill ${money(total).padStart(12)} ${d.currency}`,
  );
  if (seen >= limit) break;
}
clearTimeout(idleTimer);
console.log('--- bill');
for (const [k, v] of [...totals().entries()].sort()) {
  const [tenant, currency] = k.split(' ');
  console.log(`${tenant.padEnd(14)} ${money(v).padStart(12)} ${currency}`);
}
await nc.drain();
