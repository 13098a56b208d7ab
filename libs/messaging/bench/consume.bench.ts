/**
 * Delivery-rate probe for EventBus consumers against the local NATS (file storage): publishes N
 * small events (pipelined), then reads them back through one fresh durable per case:
 * consumeBatch with a handler that does nothing, consumeBatch with a handler that sleeps 20 ms
 * per group (a commit), and consume() one at a time. Two more cases consume while the events are
 * being published, as a service does, one of them while asking the server for the durable's
 * consumer info every 50 or 250 ms (what the tracing assembly pass does to pick its clock), or
 * reading the handle's backlog() every 50 ms instead. For each:
 * messages/s, group sizes over time, and where the consumer's time went (waiting for messages,
 * in the handler, acking); for the polling case also how long each consumer info took.
 * Run: node_modules/.bin/node tools/register.js libs/messaging/bench/consume.bench.ts [N] [case…]
 * It creates a throw-away namespaced stream and deletes it afterwards.
 */
import { cloudEvent, SUBJECTS } from '@arcwatch/contracts';
import { EventBus, type ConsumerHandle, type PublishItem } from '@arcwatch/messaging';
import { uniqueToken } from '@arcwatch/testing';
import type { JsMsg } from '@nats-io/jetstream';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';

interface Case {
  name: string;
  mode: 'batch' | 'single';
  handlerMs: number;
  /** Publish while consuming instead of before. */
  live: boolean;
  /** Ask the server for the durable's consumer info this often (ms), one request at a time. */
  infoPollMs?: number;
  /** Read handle.backlog() this often (ms) instead: what the consumer knows without asking. */
  backlogPollMs?: number;
}

const CASES: Case[] = [
  { name: 'batch-noop', mode: 'batch', handlerMs: 0, live: false },
  { name: 'batch-commit20', mode: 'batch', handlerMs: 20, live: false },
  { name: 'single-noop', mode: 'single', handlerMs: 0, live: false },
  { name: 'batch-live-commit20', mode: 'batch', handlerMs: 20, live: true },
  { name: 'batch-live-commit20-info50', mode: 'batch', handlerMs: 20, live: true, infoPollMs: 50 },
  { name: 'batch-live-commit20-info250', mode: 'batch', handlerMs: 20, live: true, infoPollMs: 250 },
  { name: 'batch-live-commit20-backlog50', mode: 'batch', handlerMs: 20, live: true, backlogPollMs: 50 },
];

/** The tracing consumer's settings. */
const MAX_BATCH = 500;
const MAX_WAIT_MS = 50;
const MAX_ACK_PENDING = 2_000;

interface Group {
  startMs: number;
  size: number;
  handlerMs: number;
}

interface Sample {
  tookMs: number;
  ackPending: number;
  waiting: number;
  pending: number;
}

/**
 * Time spent inside JsMsg.ack(), summed over the process (the library acks synchronously). The
 * message class is not exported, so it is loaded by file path to wrap its ack().
 */
const ackClock = { ms: 0, calls: 0 };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsmsgModule = require(join(dirname(require.resolve('@nats-io/jetstream')), 'jsmsg.js')) as {
  JsMsgImpl: { prototype: JsMsg };
};
const proto = jsmsgModule.JsMsgImpl.prototype;
const originalAck = proto.ack;
proto.ack = function timedAck(this: JsMsg): void {
  const t = performance.now();
  originalAck.call(this);
  ackClock.ms += performance.now() - t;
  ackClock.calls++;
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function items(run: string, n: number): PublishItem[] {
  return Array.from({ length: n }, (_, i) => ({
    subject: SUBJECTS.requestEvents(`t${i % 8}`),
    event: cloudEvent({
      id: `${run}-${i}`,
      type: 'io.arcwatch.bench.v1',
      source: 'bench',
      data: {
        requestId: `r-${Math.floor(i / 5)}`,
        kind: 'queued',
        time: new Date(1_750_000_000_000 + i).toISOString(),
        model: 'llama-3-8b',
        instance: 'vllm-0',
      },
    }),
  }));
}

async function publishAll(bus: EventBus, all: PublishItem[]): Promise<number> {
  const t = performance.now();
  // Chunks, so that a live consumer sees a steady stream rather than one burst at the end.
  for (let i = 0; i < all.length; i += 2_000) await bus.publishMany(all.slice(i, i + 2_000));
  return all.length / ((performance.now() - t) / 1000);
}

async function runCase(bus: EventBus, c: Case, n: number, run: string): Promise<string> {
  const durable = `bench-${c.name}`;
  const groups: Group[] = [];
  const samples: Sample[] = [];
  let received = 0;
  let lastHandlerEnd = 0;
  let waitMs = 0;
  let handlerMs = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  let publishRate = 0;
  let t0 = 0;
  const ackBefore = { ...ackClock };
  let polling = c.infoPollMs !== undefined;
  const poll = (async () => {
    while (polling) {
      await sleep(c.infoPollMs ?? 0);
      const t = performance.now();
      const ci = await bus.jsm.consumers.info(bus.streamName('requests'), durable).catch(() => undefined);
      if (ci)
        samples.push({
          tookMs: performance.now() - t,
          ackPending: ci.num_ack_pending,
          waiting: ci.num_waiting,
          pending: ci.num_pending,
        });
    }
  })();

  // Between two handler calls the library acks the last group and waits for the next one.
  const enter = (): number => {
    const now = performance.now();
    waitMs += now - lastHandlerEnd;
    return now;
  };
  const leave = (start: number, size: number) => {
    const end = performance.now();
    handlerMs += end - start;
    lastHandlerEnd = end;
    groups.push({ startMs: start - t0, size, handlerMs: end - start });
    received += size;
    if (received >= n) done();
  };

  const common = {
    stream: 'requests' as const,
    durable,
    filterSubject: SUBJECTS.requestEventsAll,
    maxAckPending: MAX_ACK_PENDING,
  };
  t0 = performance.now();
  lastHandlerEnd = t0;
  let handle: ConsumerHandle | undefined;
  let backlogReads = 0;
  const backlogTimer =
    c.backlogPollMs === undefined ? undefined : setInterval(() => handle?.backlog() && backlogReads++, c.backlogPollMs);
  if (c.mode === 'batch') {
    handle = await bus.consumeBatch({
      ...common,
      maxBatch: MAX_BATCH,
      maxWaitMs: MAX_WAIT_MS,
      handler: async (msgs) => {
        const start = enter();
        if (c.handlerMs > 0) await sleep(c.handlerMs);
        leave(start, msgs.length);
      },
    });
  } else {
    handle = await bus.consume({
      ...common,
      handler: async () => {
        const start = enter();
        if (c.handlerMs > 0) await sleep(c.handlerMs);
        leave(start, 1);
      },
    });
  }
  if (c.live) publishRate = await publishAll(bus, items(`${run}-${c.name}`, n));
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  polling = false;
  await poll;
  clearInterval(backlogTimer);
  await handle.stop();
  await bus.jsm.consumers.delete(bus.streamName('requests'), durable).catch(() => false);
  const acks = { ms: ackClock.ms - ackBefore.ms, calls: ackClock.calls - ackBefore.calls };
  const result = report(c, n, seconds, groups, samples, { waitMs, handlerMs, acks, publishRate });
  return backlogTimer === undefined ? result : `${result}\n  backlog() read ${backlogReads} times`;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function report(
  c: Case,
  n: number,
  seconds: number,
  groups: Group[],
  samples: Sample[],
  t: { waitMs: number; handlerMs: number; acks: { ms: number; calls: number }; publishRate: number },
): string {
  const lines: string[] = [];
  const total = seconds * 1000;
  const live = c.live ? `, published live at ${t.publishRate.toFixed(0)} msg/s` : '';
  lines.push(`${c.name}: ${n} msgs in ${seconds.toFixed(2)} s = ${(n / seconds).toFixed(0)} msg/s${live}`);
  const sizes = groups.map((g) => g.size).sort((a, b) => a - b);
  if (c.mode === 'batch') {
    lines.push(
      `  groups ${groups.length}: size p10 ${quantile(sizes, 0.1)} / median ${quantile(sizes, 0.5)} / p90 ${quantile(sizes, 0.9)}, full (${MAX_BATCH}) ${sizes.filter((s) => s >= MAX_BATCH).length}`,
    );
    // Group sizes over time: ten equal slices of the run.
    const slices: string[] = [];
    for (let i = 0; i < 10; i++) {
      const inSlice = groups.filter((g) => g.startMs >= (i * total) / 10 && g.startMs < ((i + 1) * total) / 10);
      const msgs = inSlice.reduce((s, g) => s + g.size, 0);
      slices.push(inSlice.length === 0 ? '-' : `${inSlice.length}×${Math.round(msgs / inSlice.length)}`);
    }
    lines.push(`  groups×mean size per tenth of the run: ${slices.join(' ')}`);
    const first = groups.slice(0, 8).map((g) => `${g.size}@${g.startMs.toFixed(0)}`);
    lines.push(`  first groups (size@ms): ${first.join(' ')}`);
  }
  const pct = (ms: number) => `${ms.toFixed(0)} ms (${((100 * ms) / total).toFixed(0)} %)`;
  lines.push(
    `  waiting ${pct(t.waitMs - t.acks.ms)}, in handler ${pct(t.handlerMs)}, acking ${pct(t.acks.ms)} (${t.acks.calls} acks)`,
  );
  if (samples.length > 0) {
    const took = samples.map((x) => x.tookMs).sort((a, b) => a - b);
    const avg = (f: (s: Sample) => number) => (samples.reduce((s, x) => s + f(x), 0) / samples.length).toFixed(0);
    lines.push(
      `  consumer info ×${samples.length}: took median ${quantile(took, 0.5).toFixed(1)} ms, p90 ${quantile(took, 0.9).toFixed(1)} ms; ` +
        `mean unacked ${avg((x) => x.ackPending)}, waiting pull requests ${avg((x) => x.waiting)}, undelivered ${avg((x) => x.pending)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 50_000);
  const only = process.argv.slice(3);
  const namespace = uniqueToken('cbench');
  const bus = await EventBus.connect({ name: 'consume-bench', namespace, logger: pino({ level: 'warn' }) });
  const out: string[] = [];
  try {
    await bus.ensureStreams(['requests']);
    const cases = CASES.filter((c) => only.length === 0 || only.includes(c.name));
    if (cases.some((c) => !c.live)) {
      const rate = await publishAll(bus, items(namespace, n));
      out.push(`published ${n} msgs (pipelined) at ${rate.toFixed(0)} msg/s`);
    }
    for (const c of cases) {
      if (c.live) await bus.jsm.streams.purge(bus.streamName('requests'));
      out.push(await runCase(bus, c, n, namespace));
    }
    const [l1, l5] = loadavg();
    process.stdout.write(
      `EventBus consume, NATS ${bus.nc.info?.version ?? '?'}, load average ${l1.toFixed(2)} / ${l5.toFixed(2)}\n${out.join('\n')}\n`,
    );
  } finally {
    await bus.jsm.streams.delete(bus.streamName('requests')).catch(() => false);
    await bus.drain();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`consume bench failed: ${String(err)}\n`);
  process.exit(1);
});
