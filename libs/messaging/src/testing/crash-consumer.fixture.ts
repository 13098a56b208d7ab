/**
 * Child process for crash-redelivery.int-spec.ts: consumes with a durable, applies the effect,
 * says so on stdout and then hangs inside the handler, never acking, until the test SIGKILLs it.
 * Usage: node tools/register.js libs/messaging/src/testing/crash-consumer.fixture.ts
 * with NS, DURABLE, SUBJECT, ACK_WAIT_MS and DATABASE_URL in the environment; MODE=batch uses
 * consumeBatch and commits the whole batch in one transaction before hanging.
 */
import { Client } from 'pg';
import { EventBus } from '../event-bus';
import { quietLogger } from './int-helpers';

async function main(): Promise<void> {
  const env = (k: string): string => {
    const v = process.env[k];
    if (!v) throw new Error(`crash-consumer fixture: ${k} is not set`);
    return v;
  };
  const db = new Client({ connectionString: env('DATABASE_URL') });
  await db.connect();
  const bus = await EventBus.connect({ name: 'crash-consumer', namespace: env('NS'), logger: quietLogger });
  if (process.env.MODE === 'batch') {
    await bus.consumeBatch({
      stream: 'requests',
      durable: env('DURABLE'),
      filterSubject: env('SUBJECT'),
      ackWaitMs: Number(env('ACK_WAIT_MS')),
      maxBatch: 10,
      maxWaitMs: 300,
      handler: async (msgs) => {
        const ids = msgs.map((m) => m.json<{ id: string }>().id);
        await db.query('BEGIN');
        await db.query(
          "INSERT INTO attempts (event_id, worker, delivery_count) SELECT id, 'child', n FROM unnest($1::text[], $2::int[]) AS a(id, n)",
          [ids, msgs.map((m) => m.deliveryCount)],
        );
        await db.query('INSERT INTO effects (event_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [ids]);
        await db.query('COMMIT');
        process.stdout.write(`IN_HANDLER ${ids.join(',')}\n`);
        await new Promise(() => undefined); // the crash happens here, after the commit and before the acks
      },
    });
    process.stdout.write('READY\n');
    return;
  }
  await bus.consume({
    stream: 'requests',
    durable: env('DURABLE'),
    filterSubject: env('SUBJECT'),
    ackWaitMs: Number(env('ACK_WAIT_MS')),
    handler: async (msg) => {
      const id = msg.json<{ id: string }>().id;
      await db.query('INSERT INTO attempts (event_id, worker, delivery_count) VALUES ($1, $2, $3)', [
        id,
        'child',
        msg.deliveryCount,
      ]);
      await db.query('INSERT INTO effects (event_id) VALUES ($1) ON CONFLICT DO NOTHING', [id]);
      process.stdout.write(`IN_HANDLER ${id}\n`);
      await new Promise(() => undefined); // the crash happens here, before the ack
    },
  });
  process.stdout.write('READY\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`crash-consumer fixture failed: ${String(err)}\n`);
  process.exit(1);
});
