import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ALERT_CONTEXT_SUBJECTS } from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createTestDatabase, TEST_NATS_URL, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { createBillingApp } from '../app';
import { testConfig } from '../testing/billing-test-kit';

describe("billing answers the notifier's GPU cost question (NATS request/reply)", () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let bus: EventBus;
  const ns = testNamespace();

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createBillingApp({ config: testConfig(db.url, ns), disableWorkerTimer: true });
    await app.init();
    bus = await EventBus.connect({ url: TEST_NATS_URL, name: 'gpu-cost-test', namespace: ns });
  });
  afterAll(async () => {
    await app?.close();
    await bus?.drain();
    await db?.drop();
  });

  const ask = async (q: unknown) =>
    (
      await bus.nc.request(bus.naming.toWire(ALERT_CONTEXT_SUBJECTS.gpuCost), JSON.stringify(q), { timeout: 5_000 })
    ).json<unknown>();

  it('prices the named GPUs, else a whole default instance, at the rate in force, as a decimal string', async () => {
    // infra/billing/prices.yaml: an H100 p5.48xlarge on demand in us-east-1 is 98.32 USD an hour for 8 GPUs.
    expect(await ask({ gpus: ['GPU-a', 'GPU-b'] })).toEqual({ currency: 'USD', perHour: '24.58', gpus: 2 });
    expect(await ask({ gpus: [], instance: 'vllm-1' })).toEqual({ currency: 'USD', perHour: '98.32', gpus: 8 });
    expect(await ask({ gpus: 'GPU-a' })).toMatchObject({ error: expect.stringMatching(/gpus/) });
  });
});
