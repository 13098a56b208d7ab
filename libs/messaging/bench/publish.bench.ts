/**
 * Throughput probe for EventBus publishing against the local NATS (file storage, de-dup on):
 * messages/s at 1 KB and MB/s at 64 KB, sequential publish() vs pipelined publishMany() at
 * several widths (PubAcks in flight).
 * Run: node_modules/.bin/node tools/register.js libs/messaging/bench/publish.bench.ts
 * It creates a throw-away namespaced stream and deletes it afterwards.
 */
import { cloudEvent, SUBJECTS } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { uniqueToken } from '@arcwatch/testing';
import pino from 'pino';

interface Case {
  label: string;
  payloadBytes: number;
  count: number;
  mode: 'sequential' | 'pipelined';
  maxInFlight?: number;
}

const CASES: Case[] = [
  { label: '1 KB sequential', payloadBytes: 1024, count: 3_000, mode: 'sequential' },
  { label: '1 KB pipelined', payloadBytes: 1024, count: 20_000, mode: 'pipelined', maxInFlight: 256 },
  { label: '1 KB pipelined', payloadBytes: 1024, count: 20_000, mode: 'pipelined', maxInFlight: 1024 },
  { label: '1 KB pipelined', payloadBytes: 1024, count: 20_000, mode: 'pipelined', maxInFlight: 4096 },
  { label: '64 KB sequential', payloadBytes: 64 * 1024, count: 500, mode: 'sequential' },
  { label: '64 KB pipelined', payloadBytes: 64 * 1024, count: 2_000, mode: 'pipelined', maxInFlight: 256 },
  { label: '64 KB pipelined', payloadBytes: 64 * 1024, count: 2_000, mode: 'pipelined', maxInFlight: 1024 },
];

async function runCase(bus: EventBus, c: Case, run: string): Promise<{ msgsPerSec: number; mbPerSec: number }> {
  const filler = 'x'.repeat(c.payloadBytes);
  const items = Array.from({ length: c.count }, (_, i) => ({
    subject: SUBJECTS.metricsSamples('bench', `n${i % 16}`),
    event: cloudEvent({
      id: `${run}-${c.label}-${c.maxInFlight ?? 1}-${i}`,
      type: 'io.arcwatch.bench.v1',
      source: 'bench',
      data: { filler },
    }),
  }));
  const start = process.hrtime.bigint();
  if (c.mode === 'sequential') {
    for (const it of items) await bus.publish(it.subject, it.event);
  } else {
    await bus.publishMany(items, { maxInFlight: c.maxInFlight });
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { msgsPerSec: c.count / seconds, mbPerSec: (c.count * c.payloadBytes) / seconds / (1024 * 1024) };
}

async function main(): Promise<void> {
  const namespace = uniqueToken('bench');
  const bus = await EventBus.connect({ name: 'publish-bench', namespace, logger: pino({ level: 'warn' }) });
  try {
    await bus.ensureStreams(['metrics']);
    const rows: string[] = [];
    for (const c of CASES) {
      const r = await runCase(bus, c, namespace);
      const label = c.maxInFlight ? `${c.label} ×${c.maxInFlight}` : c.label;
      rows.push(
        `${label.padEnd(24)} ${String(c.count).padStart(6)} msgs  ${r.msgsPerSec.toFixed(0).padStart(7)} msg/s  ${r.mbPerSec.toFixed(1).padStart(7)} MB/s`,
      );
    }
    process.stdout.write(
      `EventBus publish, NATS ${bus.nc.info?.version ?? '?'}, file storage, de-dup on\n${rows.join('\n')}\n`,
    );
  } finally {
    await bus.jsm.streams.delete(bus.streamName('metrics')).catch(() => false);
    await bus.drain();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`publish bench failed: ${String(err)}\n`);
  process.exit(1);
});
