/**
 * Editing the price catalog over NATS request/reply (what the console's editor sends): a catalog
 * with a mistake is answered with its line, column and field and nothing is written; a good one is
 * written and in force at once (the GPU cost the notifier asks for changes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ALERT_CONTEXT_SUBJECTS,
  configFileSubjects,
  type ApplyConfigFileReplyV1,
  type ConfigFilesReplyV1,
} from '@arcwatch/contracts';
import { EventBus } from '@arcwatch/messaging';
import { createTestDatabase, TEST_NATS_URL, testNamespace, type TestDatabase } from '@arcwatch/testing';
import { createBillingApp } from '../app';
import { testConfig } from '../testing/billing-test-kit';

const catalog = (perInstanceHour: string) =>
  [
    'prices:',
    '  - gpuModel: H100',
    '    instanceType: p5.48xlarge',
    '    provider: aws',
    '    region: us-east-1',
    '    pricingKind: on-demand',
    '    effectiveFrom: "2025-01-01T00:00:00Z"',
    '    currency: USD',
    `    perInstanceHour: ${perInstanceHour}`,
    '    gpusPerInstance: 8',
    '',
  ].join('\n');

describe('billing: price catalog edited over NATS request/reply', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let bus: EventBus;
  const ns = testNamespace();
  const dir = mkdtempSync(path.join(tmpdir(), 'aw-billing-edit-'));
  const file = path.join(dir, 'prices.yaml');
  const subjects = configFileSubjects('billing');

  const ask = async <T>(subject: string, body: unknown): Promise<T> =>
    (await bus.nc.request(bus.naming.toWire(subject), JSON.stringify(body), { timeout: 10_000 })).json<T>();
  const apply = (text: string) => ask<ApplyConfigFileReplyV1>(subjects.apply, { file, text, actor: 'test-editor' });
  const gpuCost = () => ask<{ perHour: string }>(ALERT_CONTEXT_SUBJECTS.gpuCost, { gpus: [] });

  beforeAll(async () => {
    db = await createTestDatabase();
    writeFileSync(file, catalog('"98.32"'));
    app = await createBillingApp({
      config: testConfig(db.url, ns, { BILLING_PRICES_FILE: file }),
      disableWorkerTimer: true,
    });
    await app.init();
    bus = await EventBus.connect({ url: TEST_NATS_URL, name: 'price-edit-test', namespace: ns });
  });
  afterAll(async () => {
    await app?.close();
    await bus?.drain();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the price file', async () => {
    expect(await ask<ConfigFilesReplyV1>(subjects.read, {})).toEqual({
      files: [{ kind: 'prices', file, text: catalog('"98.32"') }],
    });
  });

  it('refuses a price that is not a decimal with its line and field, and writes nothing', async () => {
    const reply = await apply(catalog('"about 90"'));
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.errors.map((e) => [e.file, e.line, e.field])).toEqual([[file, 9, 'prices[0].perInstanceHour']]);
    expect(readFileSync(file, 'utf8')).toBe(catalog('"98.32"'));
    expect(await gpuCost()).toMatchObject({ perHour: '98.32' });
  });

  it('writes a good catalog and prices with it at once', async () => {
    const reply = await apply(catalog('"80.00"'));
    expect(reply).toEqual({ ok: true, file, summary: '1 price' });
    expect(readFileSync(file, 'utf8')).toBe(catalog('"80.00"'));
    expect(await gpuCost()).toMatchObject({ perHour: '80.00' });
  });
});
