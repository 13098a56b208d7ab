import { cloudEvent, SUBJECTS } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { uniqueToken } from '@arcwatch/testing';
import pino from 'pino';
async function main() {
  const namespace = uniqueToken('pm');
  const bus = await EventBus.connect({ name: 'pm', namespace, logger: pino({ level: 'warn' }) });
  await bus.ensureStreams(['metrics']);
  const filler = 'x'.repeat(1024);
  for (const w of [256, 1024, 4096, 256, 1024, 4096]) {
    const items = Array.from({ length: 20000 }, (_, i) => ({ subject: SUBJECTS.metricsSamples('bench', `n${i % 16}`), event: cloudEvent({ id: `${w}-${Math.random()}-${i}`, type: 'io.arcwatch.bench.v1', source: 'bench', data: { filler } }) }));
    const t = process.hrtime.bigint();
    await bus.publishMany(items, { maxInFlight: w });
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    console.log(w, Math.round(20000 / s));
  }
  await bus.jsm.streams.delete(bus.streamName('metrics'));
  await bus.drain();
}
void main();
